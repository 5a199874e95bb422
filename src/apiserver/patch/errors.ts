// The one error type every patch flavour throws. `status` is the HTTP code upstream's API
// server answers with for it: JSON and merge patches that do not apply are 422 (Invalid);
// malformed strategic merge patch directives are 400 (BadRequest); other strategic merge
// failures surface upstream as plain errors, i.e. 500.
export class PatchError extends Error {
  constructor(
    message: string,
    readonly status: 400 | 422 | 500 = 422,
  ) {
    super(message);
    this.name = 'PatchError';
  }
}

// Errors a runtime raises that the kubelet turns into the waiting reasons users know.
// (Additive to the runtime contract in types.ts; any runtime may throw them.)

/** The container's configuration cannot be run: waiting reason CreateContainerConfigError. */
export class ContainerConfigError extends Error {
  readonly reason = 'CreateContainerConfigError';
}

/** The image could not be pulled: ErrImagePull (then ImagePullBackOff). */
export class ImagePullError extends Error {
  readonly reason = 'ErrImagePull';
}

/** The runtime failed to start the container: RunContainerError. */
export class RunContainerError extends Error {
  readonly reason = 'RunContainerError';
}

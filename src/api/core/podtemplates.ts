// PodTemplates: a stored PodTemplateSpec.
import type { ResourceDecl } from '../types.js';
import { formatLabels, nameColumn } from '../printers/util.js';
import { col, isObj, layoutContainerCells } from './helpers.js';
import { defaultPodTemplateSpec, validatePodTemplateSpec } from './pods.js';

export const podtemplates: ResourceDecl = {
  group: '',
  version: 'v1',
  kind: 'PodTemplate',
  plural: 'podtemplates',
  singular: 'podtemplate',
  namespaced: true,
  nameValidation: 'dns1123Subdomain',
  printer: {
    columns: [
      nameColumn,
      col('Containers', 'string', 'Names of each container in the template.'),
      col('Images', 'string', 'Images referenced by each container in the template.'),
      col('Pod Labels', 'string', 'The labels for the pod template.'),
    ],
    cells(o) {
      const [names, images] = layoutContainerCells(o.template?.spec?.containers);
      return [o.metadata.name, names, images, formatLabels(isObj(o.template?.metadata?.labels) ? o.template.metadata.labels : undefined)];
    },
  },
  strategy: {
    defaults: (o) => defaultPodTemplateSpec(o.template),
    validate: (o) => validatePodTemplateSpec(o.template, 'template'),
  },
};

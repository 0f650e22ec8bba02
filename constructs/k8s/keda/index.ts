export * from './trigger.js';
export * from './trigger-authentication.js';
export * from './scaled-object.js';
export * from './scaled-job.js';
export * from './keda-operator-metrics.js';

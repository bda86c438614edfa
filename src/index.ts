export * from './fast-autoscaler';
export * from './metric-sources/metric-source';
export * from './scaling-policy';
export * from './loop/scaling-loop';

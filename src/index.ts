export * from './fast-autoscaler';
export * from './fast-autoscaler-props';
export * from './metric-sources/metric-source';
export * from './metric-sources/source-options';
export * from './scaling-policy';
export * from './loop/scaling-loop';

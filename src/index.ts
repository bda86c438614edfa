export * from './fast-autoscaler';
export * from './scaling-policy';

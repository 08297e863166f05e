export * from './headers';
export * from './paths';
export * from './professional-session';
export * from './operation-outcome';

import { canaryReplicas } from '../../src/deploy/targets/kubernetes/target.js';

// Canary without a mesh is a share of the pods: the arithmetic keeps one of each colour at least.
test.each([
  [10, 10, 1],
  [10, 50, 5],
  [4, 10, 1],
  [4, 90, 3],
  [2, 50, 1],
  [3, 50, 2],
  [2, 99, 1],
])('%i replicas at %i%%: %i canary pods', (total, percent, canary) => {
  expect(canaryReplicas(total, percent)).toBe(canary);
});

// Public surface of the ipam module: Calico-style block IPAM (pools → per-node blocks → addresses),
// pure, with compare-and-swap writes so concurrent allocators never hand out one address twice.
export {
  BlockIpam,
  planAssign,
  planRelease,
  applyChange,
  BlockTable,
  validatePools,
  ipv4Text,
  type IpPoolConfig,
  type AllocationBlock,
  type IpamChange,
  type AssignPlan,
  type ReleasePlan,
} from './block-ipam.js';

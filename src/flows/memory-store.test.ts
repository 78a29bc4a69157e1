// The contract suite on the reference memory store.
import { MemoryFlowStore } from './memory-store.js';
import { runFlowStoreContract } from './store.contract.js';

runFlowStoreContract('memory', () => new MemoryFlowStore());

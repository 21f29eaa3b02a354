/** The search engine contract against the embedded default: our inverted index in memory. */
import { MemorySearchEngine } from '../../server/search/embedded/memory-engine.js';
import { describeSearchEngineContract } from './search-engine.contract.js';

describeSearchEngineContract('embedded, in memory', async () => new MemorySearchEngine());

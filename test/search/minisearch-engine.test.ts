/** The search engine contract against the embedded default: MiniSearch in memory. */
import { MiniSearchEngine } from '../../server/search/embedded/minisearch-engine.js';
import { describeSearchEngineContract } from './search-engine.contract.js';

describeSearchEngineContract('embedded MiniSearch', async () => new MiniSearchEngine());

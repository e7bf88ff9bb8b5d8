"""The composition root: builds the search side, the ingestion side and tenancy from Settings.

Neither HTTP nor click lives here. ``api/app.py`` adds routes on top of a
``Searcher`` and a ``Tenancy``; the CLI commands use the same functions, so a server,
``pixsearch search`` and ``pixsearch ingest`` are wired one way. The storage
backend is chosen by name (``Settings.backend``, see ``index/backends.py``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from pixsearch.config import Settings
from pixsearch.index.backends import open_reader, open_writer, reader_options
from pixsearch.index.chrome import ChromeHolder
from pixsearch.index.chromeshare import FOLDER, SharedChrome
from pixsearch.index.clipvectors import ClipVectorSync
from pixsearch.index.store import ReadStore, WriteStore
from pixsearch.index.textvectors import TextVectorSync
from pixsearch.index.vocabulary import VocabularyCache
from pixsearch.ingest.indexer import Indexer
from pixsearch.search.adult import AdultPolicy
from pixsearch.search.clip import open_clip_matcher
from pixsearch.search.insights import InsightsService
from pixsearch.search.querylog import QueryLog
from pixsearch.search.semantic import LazyEmbedder, combine_matchers, open_matcher
from pixsearch.search.service import SearchService
from pixsearch.search.suggest import SuggestionService
from pixsearch.search.trending import TrendingService, load_curated
from pixsearch.search.vocabulary import VocabularyHolder
from pixsearch.tenancy.backends import open_state
from pixsearch.tenancy.instances import InstanceStore
from pixsearch.tenancy.keys import KeyStore
from pixsearch.tenancy.limits import Limiter, open_limiter


@dataclass(slots=True)
class Searcher:
    """Everything that answers a query, over one read-only store."""

    settings: Settings
    store: ReadStore
    search: SearchService
    insights: InsightsService
    vocabulary: VocabularyHolder
    suggestions: SuggestionService | None = None  # spelling and suggestion lists
    trending: TrendingService | None = None  # needs a query log

    def refresh(self) -> bool:
        """Pick up commits made since the last call; True if anything changed."""
        return self.store.refresh()

    def warm(self) -> None:
        """Load the query-side models now: the first search loading them waited ~0.6 s
        (seconds under load) inside a server worker's event loop."""
        if self.search.semantic is not None:
            self.search.semantic.candidates(["warm"])  # loads only if vectors exist


def open_store(settings: Settings) -> ReadStore:
    """The configured backend over ``settings.index_dir``, read-only."""
    return open_reader(settings.backend, settings.index_dir, **reader_options(settings))


def build_searcher(
    settings: Settings, *, query_log: QueryLog | None = None, serving: bool = False
) -> Searcher:
    """The search side; trending (and popular suggestions) need ``query_log``. A
    `serving` process shares its site chrome with the others serving the index
    (index/chromeshare.py); a one-off search writes nothing into the index."""
    store = open_store(settings)
    adult = AdultPolicy.from_settings(settings.adult_threshold, settings.adult_hosts_file)
    semantic = combine_matchers(
        open_matcher(store, enabled=settings.semantic),
        open_clip_matcher(store, settings.clip_model_dir),  # None unless clip_model_dir is set
    )
    # Site chrome and template words, recounted per commit: by one worker for all of
    # them where the index is one directory.
    sharing = serving and settings.backend == "embedded"
    shared = SharedChrome(settings.index_dir / FOLDER) if sharing else None
    chrome = ChromeHolder(store, shared=shared)
    search = SearchService(
        store,
        adult=adult,
        semantic=semantic,
        chrome=chrome.groups,
        template_words=chrome.template_words,
    )
    # Spelling, suggestions and trending; each generation's vocabulary is cached in the index.
    vocabulary = VocabularyHolder(store, VocabularyCache(store, settings.index_dir / "vocabulary"))
    trending = None
    if query_log is not None:
        trending = TrendingService(
            search, query_log, curated=load_curated(settings.trending_file), vocabulary=vocabulary
        )
    return Searcher(
        settings=settings,
        store=store,
        search=search,
        insights=InsightsService(
            store, near_distance=settings.dup_distance, template_words=chrome.words_for_page
        ),
        vocabulary=vocabulary,
        suggestions=SuggestionService(search, vocabulary, query_log, excluded=chrome.template_words)
        if settings.suggestions
        else None,
        trending=trending,
    )


def build_indexer(settings: Settings, analyzers: tuple[str, ...]) -> tuple[WriteStore, Indexer]:
    """The writable store and the Indexer every ingesting command uses, derived data included.

    Raises ``index.store.IndexLockedError`` when another process writes the index.
    """
    store = open_writer(settings.backend, settings.index_dir, dup_distance=settings.dup_distance)
    after_commit: Callable[[], None] | None = None
    if settings.semantic:
        after_commit = TextVectorSync(store, settings.index_dir, LazyEmbedder().embed_texts)
    indexer = Indexer(
        store,
        commit_every=settings.commit_every,
        after_commit=after_commit,
        clip_vectors=ClipVectorSync(store, settings.index_dir) if "clip" in analyzers else None,
    )
    return store, indexer


@dataclass(slots=True)
class Tenancy:
    """Who may search what and how often, and what was searched: the service state."""

    keys: KeyStore
    instances: InstanceStore
    limiter: Limiter
    query_log: QueryLog

    def close(self) -> None:
        self.keys.close()
        self.instances.close()
        self.limiter.close()
        self.query_log.close()


def build_tenancy(settings: Settings) -> Tenancy:
    """The stores over the service state ``Settings.state_backend`` names, its schema migrated.

    With "sqlite" (the default) that is the index's ``service.db``, created
    (with the index dir) if missing; nothing tenancy-related touches the disk
    before this is called, so commands that only read the index never create
    it. With "postgres" it is the database ``Settings.postgres_url`` names,
    shared by servers on several machines. The rate limiter is the backend
    ``Settings.rate_limit_backend`` names, by default the state's own.
    """
    state = open_state(settings)
    return Tenancy(
        keys=state.key_store(),
        instances=state.instance_store(),
        limiter=open_limiter(settings, state),
        query_log=state.query_log(retention_days=settings.query_log_days),
    )

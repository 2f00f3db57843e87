"""Local store: SQLAlchemy models over SQLite, Alembic migrations, the credential vault.

db.py            Store.open(path): pragmas, Alembic upgrade to head (backup first), sessions
models.py        the ORM tables (`...Row`), their status vocabularies from domain/enums.py; types.py
                 ExactDecimal and UtcDateTime (both stored as text); secret_owners.py the secrets' owner ids
vault.py         Vault (AES-256-GCM per value); keys.py the key sources and choose_key_source
repositories.py  ConnectionRepository, AtlasAccountRepository
mirrors.py       MirrorRepository: Atlas rows, ERP products and stock as last seen (bulk, keyset reads)
mappings.py      MappingRepository: discovery, manual map/unmap, review pages, merge inputs
ownership.py     an Atlas row belongs to one connection: claims across connections, doubles marked
decisions.py     DecisionRepository: merge decisions and the outbox; a base moves when all writes are done
conflicts.py     ConflictRepository; runs.py RunRepository (sync logs, item errors, watermarks)
sqlutil.py       SQL helpers the repositories share
Other layers use only the repositories and plain values (most from domain/), never the ORM rows.
"""

"""Local store: SQLAlchemy models over SQLite, Alembic migrations, the credential vault.

    db.py            Store.open(path): pragmas, Alembic upgrade to head (backup first), sessions
    models.py        the ORM tables (`...Row`); enums.py their status vocabularies; types.py
                     ExactDecimal and UtcDateTime (both stored as text)
    vault.py         Vault (AES-256-GCM per value); keys.py the key sources and choose_key_source
    repositories.py  ConnectionRepository, AtlasAccountRepository: the only API other layers use
"""

-- Long-term memory: facts, preferences, decisions and outcomes, with embeddings and full text.
-- Vectors are 384-dimensional (all-MiniLM-L6-v2; OpenAI-compatible models are asked for 384
-- dimensions). `baton memory reembed` changes the dimension and model deliberately, never silently.

CREATE TABLE memories (
    id              bigserial   PRIMARY KEY,
    team_id         text        NOT NULL,
    scope           text        NOT NULL CHECK (scope IN ('workspace', 'channel', 'user')),
    channel_id      text,
    user_id         text,
    kind            text        NOT NULL DEFAULT 'fact' CHECK (kind IN ('fact', 'preference', 'decision', 'outcome')),
    text            text        NOT NULL,
    tsv             tsvector    GENERATED ALWAYS AS (to_tsvector('english', text)) STORED,
    embedding       vector(384),
    embedding_model text,
    source_kind     text        NOT NULL DEFAULT 'explicit'
                    CHECK (source_kind IN ('explicit', 'message', 'plan', 'meeting')),
    source_link     text,
    source_channel  text,
    source_ts       text,
    author_id       text,
    pinned          boolean     NOT NULL DEFAULT false,
    created_at      timestamptz NOT NULL DEFAULT now(),
    last_used_at    timestamptz,
    expires_at      timestamptz,
    superseded_by   bigint REFERENCES memories (id) ON DELETE SET NULL,
    idempotency_key text        UNIQUE,
    CHECK (scope <> 'channel' OR channel_id IS NOT NULL),
    CHECK (scope <> 'user' OR user_id IS NOT NULL)
);

CREATE INDEX memories_embedding_hnsw ON memories USING hnsw (embedding vector_cosine_ops);
CREATE INDEX memories_tsv ON memories USING gin (tsv);
CREATE INDEX memories_scope ON memories (team_id, scope, channel_id, user_id) WHERE superseded_by IS NULL;
CREATE INDEX memories_unembedded ON memories (id) WHERE embedding IS NULL;
CREATE INDEX memories_expiry ON memories (expires_at) WHERE expires_at IS NOT NULL;
CREATE INDEX memories_source ON memories (team_id, source_channel, source_ts) WHERE source_ts IS NOT NULL;

-- What embedding model and dimension the stored vectors were made with (one row).
CREATE TABLE memory_settings (
    id              boolean PRIMARY KEY DEFAULT true CHECK (id),
    embedding_model text    NOT NULL,
    dimensions      integer NOT NULL,
    updated_at      timestamptz NOT NULL DEFAULT now()
);

-- Facts stored by memory.remember before long-term memory existed move over.
INSERT INTO memories (team_id, scope, channel_id, user_id, text, source_kind, source_link, author_id, created_at,
                      idempotency_key)
SELECT team_id, scope, channel_id, user_id, text, 'explicit', source, author_id, created_at, idempotency_key
FROM remembered_facts;
DROP TABLE remembered_facts;

-- The message a plan was requested in: memories the plan stores are sourced from it.
ALTER TABLE plans ADD COLUMN message_ts text;

-- Multi-workspace install (OAuth v2): one row per installation, tokens encrypted at rest.
-- user_id '' is the workspace's (or org's) bot installation, the one every job's token comes from; a row with
-- a user id is that installer's own installation (their user token, if any). team_id is '' for an org-wide
-- install, enterprise_id '' outside Enterprise Grid. The token columns hold Fernet tokens (memory.token_cipher),
-- never plaintext; `details` holds every other field bolt's Installation has.
CREATE TABLE slack_installations (
    id                    bigserial   PRIMARY KEY,
    enterprise_id         text        NOT NULL DEFAULT '',
    team_id               text        NOT NULL DEFAULT '',
    user_id               text        NOT NULL DEFAULT '',
    is_enterprise_install boolean     NOT NULL DEFAULT false,
    details               jsonb       NOT NULL,
    bot_token             text,
    bot_refresh_token     text,
    user_token            text,
    user_refresh_token    text,
    installed_at          timestamptz NOT NULL,
    updated_at            timestamptz NOT NULL DEFAULT now(),
    UNIQUE (enterprise_id, team_id, user_id)
);

-- OAuth `state` values issued by /slack/install: each is consumed once (the row is deleted), before it expires.
CREATE TABLE slack_oauth_states (
    state      text        PRIMARY KEY,
    expires_at timestamptz NOT NULL
);

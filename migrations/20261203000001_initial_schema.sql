-- venue-access: the whole data model.
-- Invariants live here as well as in code: named constraints are translated
-- into field errors by the application (see src/db/constraint.rs).

CREATE FUNCTION set_updated_at() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    NEW.updated_at := now();
    RETURN NEW;
END;
$$;

-- ---------------------------------------------------------------------------
-- Offerers (companies, SIREN) and venues (selling points, SIRET)
-- ---------------------------------------------------------------------------
CREATE TYPE offerer_status AS ENUM ('new', 'validated', 'rejected');

CREATE TABLE offerer (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name        text NOT NULL CONSTRAINT offerer_name_not_blank CHECK (length(btrim(name)) BETWEEN 1 AND 140),
    siren       text NOT NULL CONSTRAINT offerer_siren_format CHECK (siren ~ '^[0-9]{9}$'),
    status      offerer_status NOT NULL DEFAULT 'new',
    is_active   boolean NOT NULL DEFAULT true,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT offerer_siren_key UNIQUE (siren)
);
CREATE INDEX offerer_name_search_idx ON offerer (lower(name));
CREATE TRIGGER offerer_updated_at BEFORE UPDATE ON offerer
    FOR EACH ROW EXECUTE FUNCTION set_updated_at();

-- A SIREN identifies a company for life: venues' SIRETs are checked against it.
CREATE FUNCTION offerer_siren_is_immutable() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.siren <> OLD.siren THEN
        RAISE EXCEPTION 'an offerer''s SIREN cannot change' USING ERRCODE = 'check_violation',
            CONSTRAINT = 'offerer_siren_immutable';
    END IF;
    RETURN NEW;
END;
$$;
CREATE TRIGGER offerer_siren_immutable BEFORE UPDATE OF siren ON offerer
    FOR EACH ROW EXECUTE FUNCTION offerer_siren_is_immutable();

CREATE TABLE venue (
    id                          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    offerer_id                  bigint NOT NULL REFERENCES offerer (id),
    name                        text NOT NULL CONSTRAINT venue_name_not_blank CHECK (length(btrim(name)) BETWEEN 1 AND 140),
    public_name                 text CONSTRAINT venue_public_name_not_blank CHECK (public_name IS NULL OR length(btrim(public_name)) BETWEEN 1 AND 140),
    siret                       text CONSTRAINT venue_siret_format CHECK (siret ~ '^[0-9]{14}$'),
    siret_comment               text,
    address                     text NOT NULL CONSTRAINT venue_address_not_blank CHECK (length(btrim(address)) BETWEEN 1 AND 200),
    postal_code                 text NOT NULL CONSTRAINT venue_postal_code_format CHECK (postal_code ~ '^[0-9]{5}$'),
    city                        text NOT NULL CONSTRAINT venue_city_not_blank CHECK (length(btrim(city)) BETWEEN 1 AND 100),
    activity_domain             text NOT NULL CONSTRAINT venue_activity_domain_known CHECK (activity_domain IN (
        'ARTISTIC_COURSE', 'BOOKSTORE', 'CONCERT_HALL', 'CULTURAL_CENTRE', 'FESTIVAL', 'GAMES',
        'LIBRARY', 'MOVIE', 'MUSEUM', 'MUSICAL_INSTRUMENT_STORE', 'PATRIMONY_TOURISM',
        'PERFORMING_ARTS', 'RECORD_STORE', 'SCIENTIFIC_CULTURE', 'VISUAL_ARTS', 'OTHER')),
    audio_disability_compliant  boolean,
    mental_disability_compliant boolean,
    motor_disability_compliant  boolean,
    visual_disability_compliant boolean,
    is_active                   boolean NOT NULL DEFAULT true,
    created_at                  timestamptz NOT NULL DEFAULT now(),
    updated_at                  timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT venue_siret_key UNIQUE (siret),
    -- A venue without SIRET must say why.
    CONSTRAINT venue_siret_or_comment CHECK (
        siret IS NOT NULL OR (siret_comment IS NOT NULL AND length(btrim(siret_comment)) > 0))
);
CREATE INDEX venue_offerer_idx ON venue (offerer_id, id);
CREATE INDEX venue_name_search_idx ON venue (offerer_id, lower(name));
CREATE TRIGGER venue_updated_at BEFORE UPDATE ON venue
    FOR EACH ROW EXECUTE FUNCTION set_updated_at();

-- A venue's SIRET starts with its offerer's SIREN.
CREATE FUNCTION venue_siret_matches_offerer() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    offerer_siren text;
BEGIN
    IF NEW.siret IS NULL THEN
        RETURN NEW;
    END IF;
    SELECT siren INTO offerer_siren FROM offerer WHERE id = NEW.offerer_id;
    IF offerer_siren IS NOT NULL AND left(NEW.siret, 9) <> offerer_siren THEN
        RAISE EXCEPTION 'SIRET % does not belong to SIREN %', NEW.siret, offerer_siren
            USING ERRCODE = 'check_violation', CONSTRAINT = 'venue_siret_matches_offerer';
    END IF;
    RETURN NEW;
END;
$$;
CREATE TRIGGER venue_siret_matches_offerer BEFORE INSERT OR UPDATE OF siret, offerer_id ON venue
    FOR EACH ROW EXECUTE FUNCTION venue_siret_matches_offerer();

-- ---------------------------------------------------------------------------
-- People: pro users (members of offerers) and support agents
-- ---------------------------------------------------------------------------
CREATE TYPE user_role AS ENUM ('pro', 'support');

CREATE TABLE user_account (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    -- Stored normalised (trimmed, lower-case) by the application; the check keeps it so.
    email           text NOT NULL CONSTRAINT user_account_email_normalised CHECK (email = lower(btrim(email)) AND email LIKE '%_@_%'),
    -- NULL until an invited person sets a password.
    password_hash   text CONSTRAINT user_account_password_is_argon2id CHECK (password_hash IS NULL OR password_hash LIKE '$argon2id$%'),
    display_name    text NOT NULL CONSTRAINT user_account_display_name_not_blank CHECK (length(btrim(display_name)) BETWEEN 1 AND 100),
    role            user_role NOT NULL DEFAULT 'pro',
    is_active       boolean NOT NULL DEFAULT true,
    last_login_at   timestamptz,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT user_account_email_key UNIQUE (email)
);
CREATE TRIGGER user_account_updated_at BEFORE UPDATE ON user_account
    FOR EACH ROW EXECUTE FUNCTION set_updated_at();

CREATE TABLE membership (
    user_id             bigint NOT NULL REFERENCES user_account (id),
    offerer_id          bigint NOT NULL REFERENCES offerer (id),
    invited_by_user_id  bigint REFERENCES user_account (id),
    created_at          timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, offerer_id)
);
CREATE INDEX membership_offerer_idx ON membership (offerer_id);

-- ---------------------------------------------------------------------------
-- Providers (technical partners) and their API keys
-- ---------------------------------------------------------------------------
CREATE TYPE provider_kind AS ENUM ('public', 'private');
CREATE TYPE api_environment AS ENUM ('integration', 'production');

CREATE TABLE provider (
    id                  bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name                text NOT NULL CONSTRAINT provider_name_not_blank CHECK (length(btrim(name)) BETWEEN 1 AND 140),
    kind                provider_kind NOT NULL,
    is_active           boolean NOT NULL DEFAULT true,
    contact_email       text NOT NULL CONSTRAINT provider_contact_email_normalised CHECK (contact_email = lower(btrim(contact_email)) AND contact_email LIKE '%_@_%'),
    offerer_id          bigint REFERENCES offerer (id),
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX provider_name_key ON provider (lower(name));
CREATE TRIGGER provider_updated_at BEFORE UPDATE ON provider
    FOR EACH ROW EXECUTE FUNCTION set_updated_at();

-- A key is created when support issues it; its secret exists only from the
-- moment the technical contact reveals it (secret_hash set then), and only as
-- a salted SHA-256 hash.
CREATE TABLE api_key (
    id                  bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    provider_id         bigint NOT NULL REFERENCES provider (id),
    environment         api_environment NOT NULL,
    prefix              text NOT NULL CONSTRAINT api_key_prefix_format CHECK (prefix ~ '^(integration|production)_[0-9a-f]{12}$'),
    secret_salt         bytea CONSTRAINT api_key_secret_salt_length CHECK (secret_salt IS NULL OR length(secret_salt) = 16),
    secret_hash         bytea CONSTRAINT api_key_secret_hash_length CHECK (secret_hash IS NULL OR length(secret_hash) = 32),
    created_by_user_id  bigint REFERENCES user_account (id),
    created_at          timestamptz NOT NULL DEFAULT now(),
    revealed_at         timestamptz,
    expires_at          timestamptz,
    revoked_at          timestamptz,
    revoked_by_user_id  bigint REFERENCES user_account (id),
    last_used_at        timestamptz,
    replaces_key_id     bigint REFERENCES api_key (id),
    CONSTRAINT api_key_prefix_key UNIQUE (prefix),
    CONSTRAINT api_key_prefix_matches_environment CHECK (prefix LIKE environment::text || '\_%'),
    CONSTRAINT api_key_secret_complete CHECK ((secret_hash IS NULL) = (secret_salt IS NULL)),
    CONSTRAINT api_key_revealed_has_secret CHECK ((revealed_at IS NULL) = (secret_hash IS NULL))
);
CREATE INDEX api_key_provider_idx ON api_key (provider_id, environment);

-- ---------------------------------------------------------------------------
-- Venue access grants: a provider may act on a venue while it holds an active grant
-- ---------------------------------------------------------------------------
CREATE TYPE grant_channel AS ENUM ('pro_interface', 'backoffice', 'cli');

CREATE TABLE venue_access_grant (
    id                      bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    provider_id             bigint NOT NULL REFERENCES provider (id),
    venue_id                bigint NOT NULL REFERENCES venue (id),
    channel                 grant_channel NOT NULL,
    granted_by_user_id      bigint REFERENCES user_account (id),
    granted_at              timestamptz NOT NULL DEFAULT now(),
    revoked_at              timestamptz,
    revoked_by_user_id      bigint REFERENCES user_account (id),
    revoked_channel         grant_channel,
    CONSTRAINT venue_access_grant_revocation_complete CHECK ((revoked_at IS NULL) = (revoked_channel IS NULL)),
    CONSTRAINT venue_access_grant_revoked_after_granted CHECK (revoked_at IS NULL OR revoked_at >= granted_at),
    CONSTRAINT venue_access_grant_user_channels CHECK (channel = 'cli' OR granted_by_user_id IS NOT NULL)
);
-- At most one active grant per (provider, venue); revoked grants stay as history.
CREATE UNIQUE INDEX venue_access_grant_active_key ON venue_access_grant (provider_id, venue_id) WHERE revoked_at IS NULL;
CREATE INDEX venue_access_grant_venue_idx ON venue_access_grant (venue_id) WHERE revoked_at IS NULL;

-- ---------------------------------------------------------------------------
-- Offers and bookings (what the provider API acts on)
-- ---------------------------------------------------------------------------
CREATE TABLE offer (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    venue_id        bigint NOT NULL REFERENCES venue (id),
    name            text NOT NULL CONSTRAINT offer_name_not_blank CHECK (length(btrim(name)) BETWEEN 1 AND 140),
    category_id     text NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX offer_venue_idx ON offer (venue_id);
CREATE TRIGGER offer_updated_at BEFORE UPDATE ON offer
    FOR EACH ROW EXECUTE FUNCTION set_updated_at();

CREATE TYPE booking_status AS ENUM ('confirmed', 'used', 'cancelled', 'reimbursed');

CREATE TABLE booking (
    id                      bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    token                   text NOT NULL CONSTRAINT booking_token_format CHECK (token ~ '^[A-Z0-9]{6}$'),
    offer_id                bigint NOT NULL REFERENCES offer (id),
    status                  booking_status NOT NULL DEFAULT 'confirmed',
    price_cents             integer NOT NULL CONSTRAINT booking_price_not_negative CHECK (price_cents >= 0),
    quantity                integer NOT NULL CONSTRAINT booking_quantity_positive CHECK (quantity BETWEEN 1 AND 2),
    beneficiary_first_name  text NOT NULL,
    beneficiary_last_name   text NOT NULL,
    created_at              timestamptz NOT NULL DEFAULT now(),
    confirmed_at            timestamptz,
    used_at                 timestamptz,
    cancelled_at            timestamptz,
    reimbursed_at           timestamptz,
    updated_at              timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT booking_token_key UNIQUE (token),
    CONSTRAINT booking_used_has_date CHECK (status NOT IN ('used', 'reimbursed') OR used_at IS NOT NULL),
    CONSTRAINT booking_cancelled_has_date CHECK (status <> 'cancelled' OR cancelled_at IS NOT NULL),
    CONSTRAINT booking_reimbursed_has_date CHECK (status <> 'reimbursed' OR reimbursed_at IS NOT NULL)
);
CREATE INDEX booking_offer_idx ON booking (offer_id);
CREATE TRIGGER booking_updated_at BEFORE UPDATE ON booking
    FOR EACH ROW EXECUTE FUNCTION set_updated_at();

-- ---------------------------------------------------------------------------
-- Provider account requests (public form, reviewed by support)
-- ---------------------------------------------------------------------------
CREATE TYPE request_status AS ENUM ('pending', 'approved', 'rejected');

CREATE TABLE provider_account_request (
    id                  bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    company_name        text NOT NULL CONSTRAINT provider_account_request_company_not_blank CHECK (length(btrim(company_name)) BETWEEN 1 AND 140),
    siren               text NOT NULL CONSTRAINT provider_account_request_siren_format CHECK (siren ~ '^[0-9]{9}$'),
    contact_email       text NOT NULL CONSTRAINT provider_account_request_email_normalised CHECK (contact_email = lower(btrim(contact_email))),
    kind                provider_kind NOT NULL,
    offerer_siren       text CONSTRAINT provider_account_request_offerer_siren_format CHECK (offerer_siren IS NULL OR offerer_siren ~ '^[0-9]{9}$'),
    description         text NOT NULL,
    status              request_status NOT NULL DEFAULT 'pending',
    rejection_reason    text,
    reviewed_by_user_id bigint REFERENCES user_account (id),
    reviewed_at         timestamptz,
    provider_id         bigint REFERENCES provider (id),
    requester_ip        text,
    created_at          timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT provider_account_request_private_names_offerer CHECK (kind = 'public' OR offerer_siren IS NOT NULL),
    CONSTRAINT provider_account_request_review_complete CHECK (
        (status = 'pending' AND reviewed_at IS NULL)
        OR (status = 'approved' AND reviewed_at IS NOT NULL AND provider_id IS NOT NULL)
        OR (status = 'rejected' AND reviewed_at IS NOT NULL AND rejection_reason IS NOT NULL))
);
CREATE INDEX provider_account_request_status_idx ON provider_account_request (status, created_at);

-- ---------------------------------------------------------------------------
-- Single-use tokens carried by emailed links (password reset, invitation, key
-- reveal). Only a SHA-256 hash of the token is stored.
-- ---------------------------------------------------------------------------
CREATE TYPE token_purpose AS ENUM ('password_reset', 'invitation', 'api_key_reveal');

CREATE TABLE one_time_token (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    token_hash      bytea NOT NULL CONSTRAINT one_time_token_hash_length CHECK (length(token_hash) = 32),
    purpose         token_purpose NOT NULL,
    user_id         bigint REFERENCES user_account (id),
    offerer_id      bigint REFERENCES offerer (id),
    api_key_id      bigint REFERENCES api_key (id),
    created_at      timestamptz NOT NULL DEFAULT now(),
    expires_at      timestamptz NOT NULL,
    used_at         timestamptz,
    voided_at       timestamptz,
    CONSTRAINT one_time_token_hash_key UNIQUE (token_hash),
    CONSTRAINT one_time_token_subject CHECK (
        (purpose = 'password_reset' AND user_id IS NOT NULL)
        OR (purpose = 'invitation' AND user_id IS NOT NULL AND offerer_id IS NOT NULL)
        OR (purpose = 'api_key_reveal' AND api_key_id IS NOT NULL))
);
CREATE INDEX one_time_token_api_key_idx ON one_time_token (api_key_id) WHERE api_key_id IS NOT NULL;
CREATE INDEX one_time_token_user_idx ON one_time_token (user_id) WHERE user_id IS NOT NULL;

-- ---------------------------------------------------------------------------
-- Server-side web sessions (actix-session store). The id is a SHA-256 hash of
-- the cookie value, so a database dump does not hand out live sessions.
-- ---------------------------------------------------------------------------
CREATE TABLE web_session (
    id_hash         bytea PRIMARY KEY CONSTRAINT web_session_id_hash_length CHECK (length(id_hash) = 32),
    state           jsonb NOT NULL,
    user_id         bigint REFERENCES user_account (id),
    created_at      timestamptz NOT NULL DEFAULT now(),
    expires_at      timestamptz NOT NULL
);
CREATE INDEX web_session_user_idx ON web_session (user_id) WHERE user_id IS NOT NULL;
CREATE INDEX web_session_expires_idx ON web_session (expires_at);

-- Failed sign-ins, to slow down and then block guessing (per account and per client address).
CREATE TABLE sign_in_failure (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    email           text NOT NULL,
    client_ip       text NOT NULL,
    failed_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX sign_in_failure_email_idx ON sign_in_failure (email, failed_at);
CREATE INDEX sign_in_failure_ip_idx ON sign_in_failure (client_ip, failed_at);

-- ---------------------------------------------------------------------------
-- Email outbox: written in the same transaction as the change that causes the
-- email; a background worker delivers it.
-- ---------------------------------------------------------------------------
CREATE TYPE email_status AS ENUM ('pending', 'sent', 'failed');

CREATE TABLE email_outbox (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    template        text NOT NULL,
    recipient       text NOT NULL,
    subject         text NOT NULL,
    body_text       text NOT NULL,
    body_html       text NOT NULL,
    status          email_status NOT NULL DEFAULT 'pending',
    attempts        integer NOT NULL DEFAULT 0 CONSTRAINT email_outbox_attempts_not_negative CHECK (attempts >= 0),
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    locked_until    timestamptz,
    locked_by       text,
    last_error      text,
    created_at      timestamptz NOT NULL DEFAULT now(),
    sent_at         timestamptz,
    CONSTRAINT email_outbox_sent_has_date CHECK (status <> 'sent' OR sent_at IS NOT NULL)
);
CREATE INDEX email_outbox_due_idx ON email_outbox (next_attempt_at) WHERE status = 'pending';
CREATE INDEX email_outbox_failed_idx ON email_outbox (created_at) WHERE status = 'failed';

-- ---------------------------------------------------------------------------
-- Audit trail: append-only.
-- ---------------------------------------------------------------------------
CREATE TYPE audit_actor_kind AS ENUM ('user', 'provider', 'system', 'cli');

CREATE TABLE audit_event (
    id                  bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    occurred_at         timestamptz NOT NULL DEFAULT now(),
    actor_kind          audit_actor_kind NOT NULL,
    actor_user_id       bigint,
    actor_provider_id   bigint,
    actor_label         text NOT NULL,
    action              text NOT NULL CONSTRAINT audit_event_action_format CHECK (action ~ '^[a-z][a-z_]*\.[a-z][a-z_]*$'),
    target_kind         text,
    target_id           text,
    offerer_id          bigint,
    venue_id            bigint,
    provider_id         bigint,
    details             jsonb NOT NULL DEFAULT '{}'::jsonb,
    client_ip           text,
    user_agent          text
);
CREATE INDEX audit_event_occurred_idx ON audit_event (occurred_at DESC, id DESC);
CREATE INDEX audit_event_offerer_idx ON audit_event (offerer_id, occurred_at DESC) WHERE offerer_id IS NOT NULL;
CREATE INDEX audit_event_provider_idx ON audit_event (provider_id, occurred_at DESC) WHERE provider_id IS NOT NULL;
CREATE INDEX audit_event_actor_user_idx ON audit_event (actor_user_id, occurred_at DESC) WHERE actor_user_id IS NOT NULL;

CREATE FUNCTION audit_event_is_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_event is append-only' USING ERRCODE = 'insufficient_privilege';
END;
$$;
CREATE TRIGGER audit_event_no_update BEFORE UPDATE OR DELETE ON audit_event
    FOR EACH ROW EXECUTE FUNCTION audit_event_is_append_only();
CREATE TRIGGER audit_event_no_truncate BEFORE TRUNCATE ON audit_event
    FOR EACH STATEMENT EXECUTE FUNCTION audit_event_is_append_only();

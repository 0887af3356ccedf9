-- SCIM provisioning: the identity provider's own id for each user it manages (unique
-- where set), and indexes for the lookups Okta and Entra make (by externalId, by email)
-- and for a user's last audited change (SCIM's meta.lastModified).
ALTER TABLE users ADD COLUMN external_id TEXT;
CREATE UNIQUE INDEX users_by_external_id ON users (external_id);
CREATE INDEX users_by_email ON users (LOWER(email));
CREATE INDEX audit_by_target ON audit (target_user_id, at);

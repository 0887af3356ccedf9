-- The audit as a tool: filtering by who acted, by whom it was done to, by action, each
-- with keyset paging newest first. Each index leads with the filtered column and ends
-- with (at, id), the page order, so a filtered page reads only the rows it returns.
CREATE INDEX audit_by_actor ON audit (actor_username, at, id);
CREATE INDEX audit_by_target_name ON audit (target_username, at, id);
CREATE INDEX audit_by_action ON audit (action, at, id);

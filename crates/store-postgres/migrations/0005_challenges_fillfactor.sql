-- A challenge row is written once and updated once (consumed_at), and no index covers
-- consumed_at: with half of every page left free, that update stays on the row's page (a HOT
-- update) instead of writing a new version elsewhere and an entry in both indexes. Existing pages
-- keep their layout; new ones follow the setting. Challenges are purged after expiry, so the
-- table stays small either way.
ALTER TABLE challenges SET (fillfactor = 50);

-- 036_node_free_space.sql: each node's free space in daemon_status
-- (written with the heartbeat), for choosing where a new download goes
-- (docs/cluster.md): {"": bytes free in incoming_dir, "<category>": bytes
-- free in that category's incoming path}; {} while unknown.
ALTER TABLE daemon_status ADD COLUMN free_space jsonb NOT NULL DEFAULT '{}';

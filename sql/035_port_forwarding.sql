-- 035_port_forwarding.sql: the port forwarding on the router in
-- daemon_status (written with the heartbeat; daemon/net/portmap.h).
ALTER TABLE daemon_status ADD COLUMN port_forwarding text NOT NULL DEFAULT 'off'; -- off, mapping, mapped, retrying, removing, removed
ALTER TABLE daemon_status ADD COLUMN port_forwarding_method text;      -- upnp, natpmp; NULL: none holds a mapping
ALTER TABLE daemon_status ADD COLUMN port_forwarding_address text;     -- the router's external address while mapped
ALTER TABLE daemon_status ADD COLUMN port_forwarding_error text;       -- the last failure, NULL since a success

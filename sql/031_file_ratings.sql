-- 031_file_ratings.sql: the comment and rating (0-5) web users give a
-- file (aMuTorrent's setFileRatingComment), per node and eD2K hash.
-- Written by muleteer-ws, read into its items; documented in
-- docs/schema.md.
CREATE TABLE file_ratings (
    node            text NOT NULL,
    hash            text NOT NULL CHECK (hash ~ '^[0-9a-f]{32}$'),
    comment         text NOT NULL DEFAULT '' CHECK (length(comment) <= 1024),
    rating          smallint NOT NULL DEFAULT 0 CHECK (rating BETWEEN 0 AND 5),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (node, hash)
);

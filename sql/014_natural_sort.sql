-- 014_natural_sort.sql: the order in which qBittorrent sorts text
-- (torrents/info sort=name and every other text column): case does not
-- count and digit runs compare as numbers, so "Episode 2" comes before
-- "Episode 10". cgi-bin/qbit/info.c orders a text column by
-- mt_natural_key(x) COLLATE mt_natural.

-- mt_natural_pad: a key whose bytewise order is that natural order:
-- lower case, every digit run zero-padded to 40 digits (longer runs stay
-- as they are). The key of servers built without ICU, below.
CREATE FUNCTION mt_natural_pad(s text) RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
    SELECT coalesce(string_agg(CASE WHEN m[1] ~ '^[0-9]'
                                    THEN lpad(m[1], greatest(40, length(m[1])), '0')
                                    ELSE m[1] END, '' ORDER BY n), '')
      FROM regexp_matches(lower(s), '[0-9]+|[^0-9]+', 'g') WITH ORDINALITY AS t(m, n)
$$;

-- With ICU, the collation does it all (numeric ordering "kn", case
-- ignored "ks-level2"; ties are then broken bytewise) and the key is the
-- text itself, a function the planner inlines. Without ICU, the padded
-- key in bytewise order.
DO $$
BEGIN
    CREATE COLLATION mt_natural (provider = icu, locale = 'und-u-kn-true-ks-level2');
    CREATE FUNCTION mt_natural_key(s text) RETURNS text
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS 'SELECT s';
EXCEPTION WHEN feature_not_supported THEN
    RAISE NOTICE 'no ICU in this PostgreSQL: names sort by mt_natural_pad';
    CREATE COLLATION mt_natural FROM "C";
    CREATE FUNCTION mt_natural_key(s text) RETURNS text
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS 'SELECT mt_natural_pad(s)';
END
$$;

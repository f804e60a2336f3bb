-- double()
DOUBLE PRECISION

-- pinned_instant(2026-01-01)
CAST('2026-01-01 00:00:00' AS TIMESTAMP)

-- pinned_type()
TIMESTAMP

-- cast_double(x)
CAST("x" AS DOUBLE PRECISION)

-- epoch_us(t)
CASE WHEN "t" >= '1900-01-01' AND "t" < '2040-01-01' THEN CAST(pg_catalog.date_part('epoch', "t") * 1000000 AS BIGINT) ELSE CAST(EXTRACT(EPOCH FROM "t") * 1000000 AS BIGINT) END

-- epoch_us(pinned)
CAST(EXTRACT(EPOCH FROM CAST('2026-01-01 00:00:00' AS TIMESTAMP)) * 1000000 AS BIGINT)

-- source_epoch_us(t)
CASE WHEN "t" >= '1900-01-01' AND "t" < '2040-01-01' THEN CAST(pg_catalog.date_part('epoch', "t") * 1000000 AS BIGINT) ELSE CAST(EXTRACT(EPOCH FROM "t") * 1000000 AS BIGINT) END

-- count_if(x > 0)
COUNT(*) FILTER(WHERE "x" > 0)

-- only_when(SUM, x, x > 0)
SUM("x") FILTER(WHERE "x" > 0)

-- once(now)
(SELECT CAST(EXTRACT(EPOCH FROM CURRENT_TIMESTAMP) * 1000000 AS BIGINT))

-- now_as(zoned)
CURRENT_TIMESTAMP

-- now_as(naive)
(CURRENT_TIMESTAMP AT TIME ZONE 'UTC')

-- minus_micros(t, 1 day)
"t" - INTERVAL '86400000000 MICROSECONDS'

-- micros_interval(1 s)
INTERVAL '1000000 MICROSECONDS'

-- at_nine_places(x, ROUND 2)
ROUND(CAST(CAST("x" AS TEXT) AS DECIMAL(38, 9)), 2)

-- printed(x)
CAST(CAST("x" AS TEXT) AS DECIMAL(38, 9))

-- fence(step)
SELECT "x" FROM step OFFSET 0

-- floor_div(x, 86400)
DIV("x", 86400)

-- least(x, y)
LEAST("x", "y")

-- greatest(x, y)
GREATEST("x", "y")

-- ordered_string(s)
"s" COLLATE "C"

-- ascii_case(s, lower)
LOWER("s" COLLATE "C")

-- ascii_case(s, upper)
UPPER("s" COLLATE "C")

-- lowered_domain(email)
SPLIT_PART(LOWER("email" COLLATE "C"), '@', -1)

-- regex_search(s, /\b(vp|head)[a-z]*/)
"s" ~ '(?:(?<=[0-9A-Za-z_])(?![0-9A-Za-z_])|(?<![0-9A-Za-z_])(?=[0-9A-Za-z_]))(vp|head)[a-z]*'

-- regex_search(s, /x*/)
"s" ~ 'x*'

-- regex_text(/\b(vp|head)[a-z]*/)
(?:(?<=[0-9A-Za-z_])(?![0-9A-Za-z_])|(?<![0-9A-Za-z_])(?=[0-9A-Za-z_]))(vp|head)[a-z]*

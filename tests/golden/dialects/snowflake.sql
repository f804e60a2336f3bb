-- double()
DOUBLE

-- pinned_instant(2026-01-01)
CAST('2026-01-01 00:00:00+00:00' AS TIMESTAMP_NTZ)

-- pinned_type()
TIMESTAMP_NTZ

-- cast_double(x)
CAST("x" AS DOUBLE)

-- epoch_us(t)
DATE_PART(EPOCH_MICROSECOND, "t")

-- epoch_us(pinned)
DATE_PART(EPOCH_MICROSECOND, CAST('2026-01-01 00:00:00+00:00' AS TIMESTAMP_NTZ))

-- source_epoch_us(t)
DATE_PART(EPOCH_MICROSECOND, "t")

-- count_if(x > 0)
COUNT_IF("x" > 0)

-- only_when(SUM, x, x > 0)
SUM(CASE WHEN "x" > 0 THEN "x" END)

-- once(now)
DATE_PART(EPOCH_MICROSECOND, CURRENT_TIMESTAMP())

-- now_as(zoned)
CURRENT_TIMESTAMP()

-- now_as(naive)
(CONVERT_TIMEZONE('UTC', CURRENT_TIMESTAMP()))

-- minus_micros(t, 1 day)
"t" - INTERVAL '86400000000 MICROSECONDS'

-- micros_interval(1 s)
INTERVAL '1000000 MICROSECONDS'

-- at_nine_places(x, ROUND 2)
ROUND(CAST("x" AS DECIMAL(38, 9)), 2)

-- printed(x)
CAST(CAST("x" AS VARCHAR) AS DECIMAL(38, 9))

-- fence(step)
SELECT "x" FROM step

-- floor_div(x, 86400)
CAST(("x" - "x" % 86400) / 86400 AS BIGINT)

-- least(x, y)
LEAST("x", "y")

-- greatest(x, y)
GREATEST("x", "y")

-- ordered_string(s)
"s"

-- ascii_case(s, lower)
TRANSLATE("s", 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz')

-- ascii_case(s, upper)
TRANSLATE("s", 'abcdefghijklmnopqrstuvwxyz', 'ABCDEFGHIJKLMNOPQRSTUVWXYZ')

-- lowered_domain(email)
TRANSLATE(RIGHT("email", CHARINDEX('@', REVERSE("email")) - 1), 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz')

-- regex_search(s, /\b(vp|head)[a-z]*/)
REGEXP_INSTR("s", '\\b(vp|head)[a-z]*', 1, 1, 0, 'c') > 0

-- regex_search(s, /x*/)
("s" = '' OR REGEXP_INSTR("s", 'x*', 1, 1, 0, 'c') > 0)

-- regex_text(/\b(vp|head)[a-z]*/)
\b(vp|head)[a-z]*

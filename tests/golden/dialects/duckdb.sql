-- double()
DOUBLE

-- pinned_instant(2026-01-01)
CAST('2026-01-01 00:00:00' AS TIMESTAMP)

-- pinned_type()
TIMESTAMP

-- cast_double(x)
CAST("x" AS DOUBLE)

-- epoch_us(t)
EPOCH_US("t")

-- epoch_us(pinned)
EPOCH_US(CAST('2026-01-01 00:00:00' AS TIMESTAMP))

-- source_epoch_us(t)
EPOCH_US("t")

-- count_if(x > 0)
COUNT(*) FILTER(WHERE "x" > 0)

-- only_when(SUM, x, x > 0)
SUM("x") FILTER(WHERE "x" > 0)

-- once(now)
EPOCH_US(CURRENT_TIMESTAMP)

-- now_as(zoned)
CURRENT_TIMESTAMP

-- now_as(naive)
(CURRENT_TIMESTAMP AT TIME ZONE 'UTC')

-- minus_micros(t, 1 day)
"t" - TO_MICROSECONDS(86400000000)

-- micros_interval(1 s)
TO_MICROSECONDS(1000000)

-- at_nine_places(x, ROUND 2)
CASE WHEN ABS("x") < 1000000 THEN ROUND(CAST("x" AS DECIMAL(18, 9)), 2) ELSE ROUND(CAST(CAST("x" AS TEXT) AS DECIMAL(38, 9)), 2) END

-- printed(x)
CAST(CAST("x" AS TEXT) AS DECIMAL(38, 9))

-- fence(step)
SELECT "x" FROM step

-- floor_div(x, 86400)
"x" // 86400

-- least(x, y)
LEAST("x", "y")

-- greatest(x, y)
GREATEST("x", "y")

-- ordered_string(s)
"s"

-- ascii_case(s, lower)
CASE WHEN STRLEN("s") = LENGTH("s") THEN LOWER("s") ELSE TRANSLATE("s", 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz') END

-- ascii_case(s, upper)
CASE WHEN STRLEN("s") = LENGTH("s") THEN UPPER("s") ELSE TRANSLATE("s", 'abcdefghijklmnopqrstuvwxyz', 'ABCDEFGHIJKLMNOPQRSTUVWXYZ') END

-- lowered_domain(email)
SPLIT_PART(CASE WHEN STRLEN("email") = LENGTH("email") THEN LOWER("email") ELSE TRANSLATE("email", 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz') END, '@', -1)

-- regex_search(s, /\b(vp|head)[a-z]*/)
REGEXP_MATCHES("s", '\b(vp|head)[a-z]*')

-- regex_search(s, /x*/)
REGEXP_MATCHES("s", 'x*')

-- regex_text(/\b(vp|head)[a-z]*/)
\b(vp|head)[a-z]*

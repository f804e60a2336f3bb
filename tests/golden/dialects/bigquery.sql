-- double()
FLOAT64

-- pinned_instant(2026-01-01)
CAST('2026-01-01 00:00:00+00:00' AS TIMESTAMP)

-- pinned_type()
TIMESTAMP

-- cast_double(x)
CAST(`x` AS FLOAT64)

-- epoch_us(t)
UNIX_MICROS(`t`)

-- epoch_us(pinned)
UNIX_MICROS(CAST('2026-01-01 00:00:00+00:00' AS TIMESTAMP))

-- source_epoch_us(t)
UNIX_MICROS(CAST(`t` AS TIMESTAMP))

-- count_if(x > 0)
COUNTIF(`x` > 0)

-- only_when(SUM, x, x > 0)
SUM(CASE WHEN `x` > 0 THEN `x` END)

-- once(now)
UNIX_MICROS(CURRENT_TIMESTAMP())

-- now_as(zoned)
CURRENT_TIMESTAMP()

-- now_as(naive)
(TIMESTAMP(DATETIME(CURRENT_TIMESTAMP(), 'UTC')))

-- minus_micros(t, 1 day)
`t` - INTERVAL '86400000000' MICROSECOND

-- micros_interval(1 s)
INTERVAL '1000000' MICROSECOND

-- at_nine_places(x, ROUND 2)
ROUND(CAST(CASE WHEN CAST(FORMAT('%.15g', `x`) AS FLOAT64) = `x` THEN FORMAT('%.15g', `x`) WHEN CAST(FORMAT('%.16g', `x`) AS FLOAT64) = `x` THEN FORMAT('%.16g', `x`) ELSE FORMAT('%.17g', `x`) END AS NUMERIC), 2)

-- printed(x)
CAST(CASE WHEN CAST(FORMAT('%.15g', `x`) AS FLOAT64) = `x` THEN FORMAT('%.15g', `x`) WHEN CAST(FORMAT('%.16g', `x`) AS FLOAT64) = `x` THEN FORMAT('%.16g', `x`) ELSE FORMAT('%.17g', `x`) END AS NUMERIC)

-- fence(step)
SELECT `x` FROM step

-- floor_div(x, 86400)
DIV(`x`, 86400)

-- least(x, y)
LEAST(`x`, `y`)

-- greatest(x, y)
GREATEST(`x`, `y`)

-- ordered_string(s)
`s`

-- ascii_case(s, lower)
TRANSLATE(`s`, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz')

-- ascii_case(s, upper)
TRANSLATE(`s`, 'abcdefghijklmnopqrstuvwxyz', 'ABCDEFGHIJKLMNOPQRSTUVWXYZ')

-- lowered_domain(email)
TRANSLATE(RIGHT(`email`, INSTR(REVERSE(`email`), '@') - 1), 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz')

-- regex_search(s, /\b(vp|head)[a-z]*/)
REGEXP_CONTAINS(`s`, '\\b(vp|head)[a-z]*')

-- regex_search(s, /x*/)
REGEXP_CONTAINS(`s`, 'x*')

-- regex_text(/\b(vp|head)[a-z]*/)
\b(vp|head)[a-z]*

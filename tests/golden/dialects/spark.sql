-- double()
DOUBLE

-- pinned_instant(2026-01-01)
CAST('2026-01-01 00:00:00' AS TIMESTAMP)

-- pinned_type()
TIMESTAMP

-- cast_double(x)
CAST(`x` AS DOUBLE)

-- epoch_us(t)
UNIX_MICROS(`t`)

-- epoch_us(pinned)
1767225600000000

-- source_epoch_us(t)
UNIX_MICROS(`t`)

-- count_if(x > 0)
COUNT(*) FILTER(WHERE `x` > 0)

-- only_when(SUM, x, x > 0)
SUM(`x`) FILTER(WHERE `x` > 0)

-- once(now)
UNIX_MICROS(CURRENT_TIMESTAMP())

-- now_as(zoned)
CURRENT_TIMESTAMP()

-- now_as(naive)
(FROM_UTC_TIMESTAMP(CURRENT_TIMESTAMP(), 'UTC'))

-- minus_micros(t, 1 day)
`t` - INTERVAL '86400000000' MICROSECONDS

-- micros_interval(1 s)
INTERVAL '1000000' MICROSECONDS

-- at_nine_places(x, ROUND 2)
ROUND(CAST(`x` AS DECIMAL(38, 9)), 2)

-- printed(x)
CAST(CAST(`x` AS STRING) AS DECIMAL(38, 9))

-- fence(step)
SELECT `x` FROM step

-- floor_div(x, 86400)
`x` DIV 86400

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
SPLIT_PART(TRANSLATE(`email`, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz'), '@', -1)

-- regex_search(s, /\b(vp|head)[a-z]*/)
`s` RLIKE '(?:(?<=[0-9A-Za-z_])(?![0-9A-Za-z_])|(?<![0-9A-Za-z_])(?=[0-9A-Za-z_]))(vp|head)[a-z]*'

-- regex_search(s, /x*/)
`s` RLIKE 'x*'

-- regex_text(/\b(vp|head)[a-z]*/)
(?:(?<=[0-9A-Za-z_])(?![0-9A-Za-z_])|(?<![0-9A-Za-z_])(?=[0-9A-Za-z_]))(vp|head)[a-z]*

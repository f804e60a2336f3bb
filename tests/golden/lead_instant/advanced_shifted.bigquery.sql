WITH `instants` AS (
  SELECT
    `o`.`instant_lead`,
    `o`.`as_of_us` - `s`.`shift_us` AS `as_of_us`,
    `o`.`as_of_us` AS `own_as_of_us`,
    `s`.`requested`
  FROM (
    SELECT
      `l`.`id` AS `instant_lead`,
      UNIX_MICROS(CAST(`l`.`created_at` AS TIMESTAMP)) - 86400000000 AS `as_of_us`
    FROM `my-project`.`analytics`.`leads` AS `l`
    WHERE
      NOT `l`.`created_at` IS NULL
  ) AS `o`
  CROSS JOIN (
    SELECT
      0 AS `shift_us`,
      TRUE AS `requested`
    UNION ALL
    SELECT
      302400000000 AS `shift_us`,
      FALSE AS `requested`
    UNION ALL
    SELECT
      604800000000 AS `shift_us`,
      FALSE AS `requested`
  ) AS `s`
), `scan` AS (
  SELECT
    `e`.`lead_id` AS `lead_key`,
    `i`.`as_of_us` AS `as_of_us`,
    `e`.`event_type` AS `event_type`,
    `i`.`as_of_us` - UNIX_MICROS(CAST(`e`.`occurred_at` AS TIMESTAMP)) AS `age_us`,
    `e`.`url` AS `prop_url`,
    `e`.`feature` AS `prop_feature`,
    `e`.`seats` AS `prop_seats`,
    `e`.`severity` AS `prop_severity`
  FROM `my-project`.`analytics`.`events` AS `e`
  JOIN `instants` AS `i`
    ON `e`.`lead_id` = `i`.`instant_lead`
  WHERE
    `e`.`event_type` IN (
      'page_view',
      'email_open',
      'email_click',
      'trial_start',
      'feature_used',
      'invite_sent',
      'purchase',
      'support_ticket',
      'unsubscribe'
    )
    AND `i`.`as_of_us` - UNIX_MICROS(CAST(`e`.`occurred_at` AS TIMESTAMP)) >= 0
), `agg` AS (
  SELECT
    `scan`.`lead_key`,
    `scan`.`as_of_us`,
    SUM(
      CASE
        WHEN `scan`.`event_type` = 'page_view'
        THEN POWER(
          CAST(0.5 AS FLOAT64),
          CAST(`scan`.`age_us` AS FLOAT64) / CAST(604800000000 AS FLOAT64)
        )
      END
    ) AS `agg_a1`,
    SUM(
      CASE
        WHEN (
          `scan`.`event_type` = 'page_view'
          AND `scan`.`age_us` < 2592000000000
          AND LEFT(`scan`.`prop_url`, LENGTH('/docs')) = '/docs'
        )
        AND CAST(1 AS FLOAT64) - CAST(0.25 AS FLOAT64) * CAST(DIV(`scan`.`age_us`, 604800000000) AS FLOAT64) > 0
        THEN CAST(1 AS FLOAT64) - CAST(0.25 AS FLOAT64) * CAST(DIV(`scan`.`age_us`, 604800000000) AS FLOAT64)
      END
    ) AS `agg_a2`,
    COUNT(
      DISTINCT CASE
        WHEN `scan`.`event_type` = 'page_view' AND `scan`.`age_us` < 2592000000000
        THEN `scan`.`prop_url`
      END
    ) AS `agg_a3`,
    COUNT(
      DISTINCT CASE
        WHEN `scan`.`event_type` = 'email_click'
        THEN DIV(`scan`.`age_us`, 86400000000)
      END
    ) AS `agg_a6`,
    COUNTIF(`scan`.`event_type` = 'email_open' AND `scan`.`age_us` < 1209600000000) AS `agg_a7`,
    COUNT(
      DISTINCT CASE
        WHEN `scan`.`event_type` = 'feature_used'
        AND `scan`.`age_us` < 2592000000000
        AND (
          `scan`.`prop_feature` = 'api' OR `scan`.`prop_feature` = 'sso'
        )
        THEN DIV(`scan`.`age_us`, 604800000000)
      END
    ) AS `agg_a9`,
    SUM(
      CASE
        WHEN `scan`.`event_type` = 'invite_sent' AND `scan`.`age_us` < 2592000000000
        THEN CAST(`scan`.`prop_seats` AS FLOAT64)
      END
    ) AS `agg_a11`,
    MAX(CASE WHEN `scan`.`event_type` = 'trial_start' THEN `scan`.`age_us` END) AS `agg_a12`,
    MIN(`scan`.`age_us`) AS `agg_a14`,
    BIT_OR(
      CASE
        WHEN `scan`.`event_type` = 'page_view'
        AND `scan`.`age_us` >= 604800000000
        AND `scan`.`age_us` < 2592000000000
        AND `scan`.`prop_url` = '/pricing'
        THEN 1
        ELSE 0
      END + CASE
        WHEN `scan`.`event_type` = 'page_view'
        AND `scan`.`age_us` < 604800000000
        AND `scan`.`prop_url` = '/pricing'
        THEN 2
        ELSE 0
      END + CASE
        WHEN `scan`.`event_type` = 'trial_start' AND `scan`.`age_us` < 2592000000000
        THEN 4
        ELSE 0
      END + CASE WHEN `scan`.`event_type` = 'purchase' THEN 8 ELSE 0 END + CASE
        WHEN `scan`.`age_us` >= 5184000000000 AND `scan`.`age_us` < 10368000000000
        THEN 16
        ELSE 0
      END + CASE WHEN `scan`.`age_us` < 5184000000000 THEN 32 ELSE 0 END + CASE
        WHEN `scan`.`event_type` = 'support_ticket'
        AND `scan`.`age_us` < 1209600000000
        AND `scan`.`prop_severity` = 'high'
        THEN 64
        ELSE 0
      END + CASE WHEN `scan`.`event_type` = 'unsubscribe' THEN 128 ELSE 0 END
    ) AS `flags`
  FROM `scan`
  GROUP BY
    `scan`.`lead_key`,
    `scan`.`as_of_us`
), `sequence_scan` AS (
  SELECT
    `e`.`lead_id` AS `lead_key`,
    `i`.`as_of_us` AS `as_of_us`,
    `e`.`event_type` AS `event_type`,
    `i`.`as_of_us` - UNIX_MICROS(CAST(`e`.`occurred_at` AS TIMESTAMP)) AS `age_us`
  FROM `my-project`.`analytics`.`events` AS `e`
  JOIN `instants` AS `i`
    ON `e`.`lead_id` = `i`.`instant_lead`
  WHERE
    `e`.`event_type` IN ('trial_start', 'invite_sent')
    AND `i`.`as_of_us` - UNIX_MICROS(CAST(`e`.`occurred_at` AS TIMESTAMP)) >= 0
), `sequenced` AS (
  SELECT
    *,
    MIN(
      CASE
        WHEN `sequence_scan`.`event_type` = 'trial_start'
        THEN `sequence_scan`.`age_us`
      END
    ) OVER (
      PARTITION BY `sequence_scan`.`lead_key`, `sequence_scan`.`as_of_us`
      ORDER BY `sequence_scan`.`age_us` DESC
      RANGE BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
    ) AS `nearest_first_a10`
  FROM `sequence_scan`
), `sequence_agg` AS (
  SELECT
    `sequenced`.`lead_key`,
    `sequenced`.`as_of_us`,
    COUNTIF(
      `sequenced`.`event_type` = 'invite_sent'
      AND `sequenced`.`nearest_first_a10` - `sequenced`.`age_us` <= 172800000000
    ) > 0 AS `agg_a10`
  FROM `sequenced`
  GROUP BY
    `sequenced`.`lead_key`,
    `sequenced`.`as_of_us`
), `base` AS (
  SELECT
    `l`.`id` AS `id`,
    `l`.`email` AS `lead_email`,
    `l`.`job_title` AS `lead_job_title`,
    `l`.`company` AS `lead_company`,
    `l`.`industry` AS `lead_industry`,
    `l`.`employees` AS `lead_employees`,
    `l`.`annual_revenue` AS `lead_annual_revenue`,
    `l`.`country` AS `lead_country`,
    `l`.`phone` AS `lead_phone`,
    `l`.`is_customer` AS `lead_is_customer`,
    `l`.`last_contacted_at` AS `lead_last_contacted_at`,
    `i`.`as_of_us`,
    `i`.`own_as_of_us`,
    `i`.`requested`,
    COALESCE(`agg`.`agg_a1`, 0) AS `agg_a1`,
    COALESCE(`agg`.`agg_a2`, 0) AS `agg_a2`,
    COALESCE(`agg`.`agg_a3`, 0) AS `agg_a3`,
    COALESCE(`agg`.`flags` & 1, 0) AS `agg_a4`,
    COALESCE(`agg`.`flags` & 2, 0) AS `agg_a5`,
    COALESCE(`agg`.`agg_a6`, 0) AS `agg_a6`,
    COALESCE(`agg`.`agg_a7`, 0) AS `agg_a7`,
    COALESCE(`agg`.`flags` & 4, 0) AS `agg_a8`,
    COALESCE(`agg`.`agg_a9`, 0) AS `agg_a9`,
    COALESCE(`sequence_agg`.`agg_a10`, FALSE) AS `agg_a10`,
    COALESCE(`agg`.`agg_a11`, 0) AS `agg_a11`,
    `i`.`as_of_us` - `agg`.`agg_a12` AS `agg_a12`,
    COALESCE(`agg`.`flags` & 8, 0) AS `agg_a13`,
    `i`.`as_of_us` - `agg`.`agg_a14` AS `agg_a14`,
    COALESCE(`agg`.`flags` & 16, 0) AS `agg_a15`,
    COALESCE(`agg`.`flags` & 32, 0) AS `agg_a16`,
    COALESCE(`agg`.`flags` & 64, 0) AS `agg_a17`,
    COALESCE(`agg`.`flags` & 128, 0) AS `agg_a18`
  FROM `my-project`.`analytics`.`leads` AS `l`
  JOIN `instants` AS `i`
    ON `l`.`id` = `i`.`instant_lead`
  LEFT JOIN `agg`
    ON `l`.`id` = `agg`.`lead_key` AND `i`.`as_of_us` = `agg`.`as_of_us`
  LEFT JOIN `sequence_agg`
    ON `l`.`id` = `sequence_agg`.`lead_key`
    AND `i`.`as_of_us` = `sequence_agg`.`as_of_us`
), `points` AS (
  SELECT
    `base`.*,
    CAST(CASE
      WHEN TRANSLATE(`base`.`lead_industry`, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz') IN ('software', 'saas', 'fintech', 'devtools')
      THEN 15
      ELSE 0
    END AS FLOAT64) AS `fit__target_industry`,
    CAST(CASE WHEN `base`.`lead_employees` BETWEEN 20 AND 5000 THEN 10 ELSE 0 END AS FLOAT64) AS `fit__company_size`,
    CAST(CASE
      WHEN `base`.`lead_employees` > 5000 OR `base`.`lead_annual_revenue` >= 100000000
      THEN 5
      ELSE 0
    END AS FLOAT64) AS `fit__enterprise`,
    CAST(CASE
      WHEN CASE
        WHEN NOT (
          ABS(
            CAST(`base`.`lead_annual_revenue` AS FLOAT64) / NULLIF(CAST(`base`.`lead_employees` AS FLOAT64), 0)
          ) < 4503599627370496
        )
        THEN CAST(`base`.`lead_annual_revenue` AS FLOAT64) / NULLIF(CAST(`base`.`lead_employees` AS FLOAT64), 0)
        ELSE CAST(ROUND(
          CAST(CASE
            WHEN CAST(FORMAT(
              '%.15g',
              CAST(`base`.`lead_annual_revenue` AS FLOAT64) / NULLIF(CAST(`base`.`lead_employees` AS FLOAT64), 0)
            ) AS FLOAT64) = CAST(`base`.`lead_annual_revenue` AS FLOAT64) / NULLIF(CAST(`base`.`lead_employees` AS FLOAT64), 0)
            THEN FORMAT(
              '%.15g',
              CAST(`base`.`lead_annual_revenue` AS FLOAT64) / NULLIF(CAST(`base`.`lead_employees` AS FLOAT64), 0)
            )
            WHEN CAST(FORMAT(
              '%.16g',
              CAST(`base`.`lead_annual_revenue` AS FLOAT64) / NULLIF(CAST(`base`.`lead_employees` AS FLOAT64), 0)
            ) AS FLOAT64) = CAST(`base`.`lead_annual_revenue` AS FLOAT64) / NULLIF(CAST(`base`.`lead_employees` AS FLOAT64), 0)
            THEN FORMAT(
              '%.16g',
              CAST(`base`.`lead_annual_revenue` AS FLOAT64) / NULLIF(CAST(`base`.`lead_employees` AS FLOAT64), 0)
            )
            ELSE FORMAT(
              '%.17g',
              CAST(`base`.`lead_annual_revenue` AS FLOAT64) / NULLIF(CAST(`base`.`lead_employees` AS FLOAT64), 0)
            )
          END AS NUMERIC),
          0
        ) AS FLOAT64)
      END >= 200000
      THEN 5
      ELSE 0
    END AS FLOAT64) AS `fit__high_revenue_per_employee`,
    CAST(CASE
      WHEN REGEXP_CONTAINS(
        `base`.`lead_job_title`,
        '\\b([vV][pP]|[vV][iI][cC][eE] [pP][rR][eE][sS][iI][dD][eE][nN][tT]|[hH][eE][aA][dD]|[dD][iI][rR][eE][cC][tT][oO][rR]|[cC][hH][iI][eE][fF]|[cC][tT][oO]|[cC][eE][oO]|[fF][oO][uU][nN][dD][eE][rR])\\b'
      )
      THEN 15
      ELSE 0
    END AS FLOAT64) AS `fit__senior_title`,
    CAST(CASE
      WHEN REGEXP_CONTAINS(
        `base`.`lead_job_title`,
        '\\b([sS][tT][uU][dD][eE][nN][tT]|[iI][nN][tT][eE][rR][nN]|[fF][rR][eE][eE][lL][aA][nN][cC][eE][rR]?|[rR][eE][tT][iI][rR][eE][dD])\\b'
      )
      THEN -20
      ELSE 0
    END AS FLOAT64) AS `fit__personal_title`,
    CAST(CASE
      WHEN CASE
        WHEN INSTR(`base`.`lead_email`, '@') > 0
        THEN TRANSLATE(
          RIGHT(`base`.`lead_email`, INSTR(REVERSE(`base`.`lead_email`), '@') - 1),
          'ABCDEFGHIJKLMNOPQRSTUVWXYZ',
          'abcdefghijklmnopqrstuvwxyz'
        )
      END IN ('gmail.com', 'yahoo.com', 'hotmail.com', 'outlook.com', 'icloud.com')
      THEN -15
      ELSE 0
    END AS FLOAT64) AS `fit__free_email`,
    CAST(CASE
      WHEN RIGHT(`base`.`lead_email`, LENGTH('.edu')) = '.edu'
      OR RIGHT(`base`.`lead_email`, LENGTH('.ac.uk')) = '.ac.uk'
      THEN -15
      ELSE 0
    END AS FLOAT64) AS `fit__academic_address`,
    CAST(CASE WHEN INSTR(`base`.`lead_company`, 'Consulting') > 0 THEN -5 ELSE 0 END AS FLOAT64) AS `fit__consultancy`,
    CAST(CASE
      WHEN `base`.`lead_company` IS NULL OR LENGTH(`base`.`lead_company`) < 2
      THEN -5
      ELSE 0
    END AS FLOAT64) AS `fit__no_company_name`,
    CAST(CASE
      WHEN TRANSLATE(`base`.`lead_country`, 'abcdefghijklmnopqrstuvwxyz', 'ABCDEFGHIJKLMNOPQRSTUVWXYZ') IN ('US', 'CA')
      OR LEFT(`base`.`lead_phone`, LENGTH('+1')) = '+1'
      THEN 5
      ELSE 0
    END AS FLOAT64) AS `fit__north_america`,
    CAST(CASE WHEN NOT `base`.`lead_phone` IS NULL THEN 3 ELSE 0 END AS FLOAT64) AS `fit__left_a_phone_number`,
    CAST(CASE
      WHEN NOT `base`.`lead_country` IN ('US', 'CA', 'GB', 'DE', 'FR')
      AND `base`.`lead_country` <> 'NL'
      THEN -5
      ELSE 0
    END AS FLOAT64) AS `fit__outside_sales_territories`,
    COALESCE(`base`.`lead_is_customer`, FALSE) AS `fit__already_a_customer`,
    CAST(1 AS FLOAT64) * CAST(`base`.`agg_a1` AS FLOAT64) AS `engagement__page_views_half_life_a_week`,
    CAST(2 AS FLOAT64) * CAST(`base`.`agg_a2` AS FLOAT64) AS `engagement__docs_reading`,
    CAST(CASE WHEN `base`.`agg_a3` >= 5 THEN 5 ELSE 0 END AS FLOAT64) AS `engagement__explored_the_site`,
    CAST(CASE
      WHEN `base`.`agg_a4` > 0 AND NOT (
        COALESCE(`base`.`agg_a5` > 0, FALSE)
      )
      THEN 3
      ELSE 0
    END AS FLOAT64) AS `engagement__looked_at_pricing_weeks_ago`,
    CAST(4 AS FLOAT64) * CAST(`base`.`agg_a6` AS FLOAT64) AS `engagement__email_clicks_once_a_day`,
    CAST(CASE WHEN `base`.`agg_a7` >= 3 THEN 2 ELSE 0 END AS FLOAT64) AS `engagement__opens_recent_emails`,
    CAST(CASE WHEN `base`.`agg_a8` > 0 THEN 25 ELSE 0 END AS FLOAT64) AS `engagement__started_a_trial`,
    CASE
      WHEN CAST(5 AS FLOAT64) * CAST(`base`.`agg_a9` AS FLOAT64) < CAST(20 AS FLOAT64)
      THEN CAST(5 AS FLOAT64) * CAST(`base`.`agg_a9` AS FLOAT64)
      ELSE CAST(20 AS FLOAT64)
    END AS `engagement__key_features_weekly`,
    CAST(CASE WHEN `base`.`agg_a10` THEN 15 ELSE 0 END AS FLOAT64) AS `engagement__invited_the_team_early`,
    CAST(CASE WHEN `base`.`agg_a11` >= 5 THEN 10 ELSE 0 END AS FLOAT64) AS `engagement__invited_five_seats_or_more`,
    CAST(CASE
      WHEN CAST(`base`.`as_of_us` - `base`.`agg_a12` AS FLOAT64) / CAST(86400000000 AS FLOAT64) >= 14
      AND `base`.`agg_a13` = 0
      THEN -10
      ELSE 0
    END AS FLOAT64) AS `engagement__trial_ending_without_a_purchase`,
    CAST(CASE
      WHEN CAST(`base`.`as_of_us` - `base`.`agg_a14` AS FLOAT64) / CAST(86400000000 AS FLOAT64) > 21
      THEN -10
      ELSE 0
    END AS FLOAT64) AS `engagement__quiet_for_three_weeks`,
    CAST(CASE WHEN `base`.`agg_a15` > 0 AND `base`.`agg_a16` = 0 THEN -10 ELSE 0 END AS FLOAT64) AS `engagement__went_quiet`,
    CAST(CASE WHEN `base`.`agg_a17` > 0 THEN -5 ELSE 0 END AS FLOAT64) AS `engagement__blocked_by_a_bug`,
    CAST(CASE
      WHEN CAST(`base`.`as_of_us` - UNIX_MICROS(CAST(`base`.`lead_last_contacted_at` AS TIMESTAMP)) AS FLOAT64) / CAST(86400000000 AS FLOAT64) < 3
      THEN -5
      ELSE 0
    END AS FLOAT64) AS `engagement__sales_called_this_week`,
    COALESCE(`base`.`agg_a18` > 0, FALSE) AS `engagement__unsubscribed`
  FROM `base`
), `totals` AS (
  SELECT
    `points`.*,
    CASE
      WHEN `points`.`fit__already_a_customer`
      THEN CAST(0 AS FLOAT64)
      ELSE `points`.`fit__target_industry` + `points`.`fit__company_size` + `points`.`fit__enterprise` + `points`.`fit__high_revenue_per_employee` + `points`.`fit__senior_title` + `points`.`fit__personal_title` + `points`.`fit__free_email` + `points`.`fit__academic_address` + `points`.`fit__consultancy` + `points`.`fit__no_company_name` + `points`.`fit__north_america` + `points`.`fit__left_a_phone_number` + `points`.`fit__outside_sales_territories`
    END AS `unclamped_fit`,
    CASE
      WHEN `points`.`engagement__unsubscribed`
      THEN CAST(0 AS FLOAT64)
      ELSE CASE
        WHEN CAST(30 AS FLOAT64) < `points`.`engagement__page_views_half_life_a_week` + `points`.`engagement__docs_reading` + `points`.`engagement__explored_the_site` + `points`.`engagement__looked_at_pricing_weeks_ago`
        THEN CAST(30 AS FLOAT64)
        ELSE `points`.`engagement__page_views_half_life_a_week` + `points`.`engagement__docs_reading` + `points`.`engagement__explored_the_site` + `points`.`engagement__looked_at_pricing_weeks_ago`
      END + CASE
        WHEN CAST(12 AS FLOAT64) < `points`.`engagement__email_clicks_once_a_day` + `points`.`engagement__opens_recent_emails`
        THEN CAST(12 AS FLOAT64)
        ELSE `points`.`engagement__email_clicks_once_a_day` + `points`.`engagement__opens_recent_emails`
      END + `points`.`engagement__started_a_trial` + `points`.`engagement__key_features_weekly` + `points`.`engagement__invited_the_team_early` + `points`.`engagement__invited_five_seats_or_more` + `points`.`engagement__trial_ending_without_a_purchase` + `points`.`engagement__quiet_for_three_weeks` + `points`.`engagement__went_quiet` + `points`.`engagement__blocked_by_a_bug` + `points`.`engagement__sales_called_this_week`
    END AS `unclamped_engagement`
  FROM `points`
), `clamped` AS (
  SELECT
    `totals`.*,
    CASE
      WHEN `totals`.`unclamped_fit` < CAST(0 AS FLOAT64)
      THEN CAST(0 AS FLOAT64)
      WHEN `totals`.`unclamped_fit` > CAST(60 AS FLOAT64)
      THEN CAST(60 AS FLOAT64)
      ELSE `totals`.`unclamped_fit`
    END AS `clamped_fit`,
    CASE
      WHEN `totals`.`unclamped_engagement` < CAST(0 AS FLOAT64)
      THEN CAST(0 AS FLOAT64)
      WHEN `totals`.`unclamped_engagement` > CAST(100 AS FLOAT64)
      THEN CAST(100 AS FLOAT64)
      ELSE `totals`.`unclamped_engagement`
    END AS `clamped_engagement`
  FROM `totals`
), `scored` AS (
  SELECT
    `clamped`.*,
    `clamped`.`clamped_fit` AS `fit`,
    CASE
      WHEN NOT (
        ABS(`clamped`.`clamped_engagement`) < 4503599627370496
      )
      THEN `clamped`.`clamped_engagement`
      ELSE CAST(ROUND(
        CAST(CASE
          WHEN CAST(FORMAT('%.15g', `clamped`.`clamped_engagement`) AS FLOAT64) = `clamped`.`clamped_engagement`
          THEN FORMAT('%.15g', `clamped`.`clamped_engagement`)
          WHEN CAST(FORMAT('%.16g', `clamped`.`clamped_engagement`) AS FLOAT64) = `clamped`.`clamped_engagement`
          THEN FORMAT('%.16g', `clamped`.`clamped_engagement`)
          ELSE FORMAT('%.17g', `clamped`.`clamped_engagement`)
        END AS NUMERIC),
        2
      ) AS FLOAT64)
    END AS `engagement`
  FROM `clamped`
), `shifted_derived_1` AS (
  SELECT
    `c`.*,
    `s0`.`engagement` AS `shifted_engagement_604800`
  FROM `scored` AS `c`
  LEFT JOIN `scored` AS `s0`
    ON `s0`.`id` = `c`.`id` AND `s0`.`as_of_us` = `c`.`as_of_us` - 604800000000
), `derived_1` AS (
  SELECT
    `shifted_derived_1`.*,
    CASE
      WHEN NOT (
        ABS(
          CAST(CASE
            WHEN CAST(0 AS FLOAT64) IS NULL
            OR `shifted_derived_1`.`engagement` - `shifted_derived_1`.`fit` IS NULL
            THEN NULL
            ELSE GREATEST(CAST(0 AS FLOAT64), `shifted_derived_1`.`engagement` - `shifted_derived_1`.`fit`)
          END AS FLOAT64)
        ) < 4503599627370496
      )
      THEN CAST(CASE
        WHEN CAST(0 AS FLOAT64) IS NULL
        OR `shifted_derived_1`.`engagement` - `shifted_derived_1`.`fit` IS NULL
        THEN NULL
        ELSE GREATEST(CAST(0 AS FLOAT64), `shifted_derived_1`.`engagement` - `shifted_derived_1`.`fit`)
      END AS FLOAT64)
      ELSE CAST(ROUND(
        CAST(CASE
          WHEN CAST(FORMAT(
            '%.15g',
            CAST(CASE
              WHEN CAST(0 AS FLOAT64) IS NULL
              OR `shifted_derived_1`.`engagement` - `shifted_derived_1`.`fit` IS NULL
              THEN NULL
              ELSE GREATEST(CAST(0 AS FLOAT64), `shifted_derived_1`.`engagement` - `shifted_derived_1`.`fit`)
            END AS FLOAT64)
          ) AS FLOAT64) = CAST(CASE
            WHEN CAST(0 AS FLOAT64) IS NULL
            OR `shifted_derived_1`.`engagement` - `shifted_derived_1`.`fit` IS NULL
            THEN NULL
            ELSE GREATEST(CAST(0 AS FLOAT64), `shifted_derived_1`.`engagement` - `shifted_derived_1`.`fit`)
          END AS FLOAT64)
          THEN FORMAT(
            '%.15g',
            CAST(CASE
              WHEN CAST(0 AS FLOAT64) IS NULL
              OR `shifted_derived_1`.`engagement` - `shifted_derived_1`.`fit` IS NULL
              THEN NULL
              ELSE GREATEST(CAST(0 AS FLOAT64), `shifted_derived_1`.`engagement` - `shifted_derived_1`.`fit`)
            END AS FLOAT64)
          )
          WHEN CAST(FORMAT(
            '%.16g',
            CAST(CASE
              WHEN CAST(0 AS FLOAT64) IS NULL
              OR `shifted_derived_1`.`engagement` - `shifted_derived_1`.`fit` IS NULL
              THEN NULL
              ELSE GREATEST(CAST(0 AS FLOAT64), `shifted_derived_1`.`engagement` - `shifted_derived_1`.`fit`)
            END AS FLOAT64)
          ) AS FLOAT64) = CAST(CASE
            WHEN CAST(0 AS FLOAT64) IS NULL
            OR `shifted_derived_1`.`engagement` - `shifted_derived_1`.`fit` IS NULL
            THEN NULL
            ELSE GREATEST(CAST(0 AS FLOAT64), `shifted_derived_1`.`engagement` - `shifted_derived_1`.`fit`)
          END AS FLOAT64)
          THEN FORMAT(
            '%.16g',
            CAST(CASE
              WHEN CAST(0 AS FLOAT64) IS NULL
              OR `shifted_derived_1`.`engagement` - `shifted_derived_1`.`fit` IS NULL
              THEN NULL
              ELSE GREATEST(CAST(0 AS FLOAT64), `shifted_derived_1`.`engagement` - `shifted_derived_1`.`fit`)
            END AS FLOAT64)
          )
          ELSE FORMAT(
            '%.17g',
            CAST(CASE
              WHEN CAST(0 AS FLOAT64) IS NULL
              OR `shifted_derived_1`.`engagement` - `shifted_derived_1`.`fit` IS NULL
              THEN NULL
              ELSE GREATEST(CAST(0 AS FLOAT64), `shifted_derived_1`.`engagement` - `shifted_derived_1`.`fit`)
            END AS FLOAT64)
          )
        END AS NUMERIC),
        2
      ) AS FLOAT64)
    END AS `momentum`,
    CASE
      WHEN NOT (
        ABS(
          CAST(CASE
            WHEN CAST(100 AS FLOAT64) IS NULL
            OR (
              (
                CAST(2 AS FLOAT64) * `shifted_derived_1`.`fit`
              ) + (
                CAST(3 AS FLOAT64) * `shifted_derived_1`.`engagement`
              )
            ) / NULLIF(CAST(5 AS FLOAT64), 0) IS NULL
            THEN NULL
            ELSE LEAST(
              CAST(100 AS FLOAT64),
              (
                (
                  CAST(2 AS FLOAT64) * `shifted_derived_1`.`fit`
                ) + (
                  CAST(3 AS FLOAT64) * `shifted_derived_1`.`engagement`
                )
              ) / NULLIF(CAST(5 AS FLOAT64), 0)
            )
          END AS FLOAT64)
        ) < 4503599627370496
      )
      THEN CAST(CASE
        WHEN CAST(100 AS FLOAT64) IS NULL
        OR (
          (
            CAST(2 AS FLOAT64) * `shifted_derived_1`.`fit`
          ) + (
            CAST(3 AS FLOAT64) * `shifted_derived_1`.`engagement`
          )
        ) / NULLIF(CAST(5 AS FLOAT64), 0) IS NULL
        THEN NULL
        ELSE LEAST(
          CAST(100 AS FLOAT64),
          (
            (
              CAST(2 AS FLOAT64) * `shifted_derived_1`.`fit`
            ) + (
              CAST(3 AS FLOAT64) * `shifted_derived_1`.`engagement`
            )
          ) / NULLIF(CAST(5 AS FLOAT64), 0)
        )
      END AS FLOAT64)
      ELSE CAST(ROUND(
        CAST(CASE
          WHEN CAST(FORMAT(
            '%.15g',
            CAST(CASE
              WHEN CAST(100 AS FLOAT64) IS NULL
              OR (
                (
                  CAST(2 AS FLOAT64) * `shifted_derived_1`.`fit`
                ) + (
                  CAST(3 AS FLOAT64) * `shifted_derived_1`.`engagement`
                )
              ) / NULLIF(CAST(5 AS FLOAT64), 0) IS NULL
              THEN NULL
              ELSE LEAST(
                CAST(100 AS FLOAT64),
                (
                  (
                    CAST(2 AS FLOAT64) * `shifted_derived_1`.`fit`
                  ) + (
                    CAST(3 AS FLOAT64) * `shifted_derived_1`.`engagement`
                  )
                ) / NULLIF(CAST(5 AS FLOAT64), 0)
              )
            END AS FLOAT64)
          ) AS FLOAT64) = CAST(CASE
            WHEN CAST(100 AS FLOAT64) IS NULL
            OR (
              (
                CAST(2 AS FLOAT64) * `shifted_derived_1`.`fit`
              ) + (
                CAST(3 AS FLOAT64) * `shifted_derived_1`.`engagement`
              )
            ) / NULLIF(CAST(5 AS FLOAT64), 0) IS NULL
            THEN NULL
            ELSE LEAST(
              CAST(100 AS FLOAT64),
              (
                (
                  CAST(2 AS FLOAT64) * `shifted_derived_1`.`fit`
                ) + (
                  CAST(3 AS FLOAT64) * `shifted_derived_1`.`engagement`
                )
              ) / NULLIF(CAST(5 AS FLOAT64), 0)
            )
          END AS FLOAT64)
          THEN FORMAT(
            '%.15g',
            CAST(CASE
              WHEN CAST(100 AS FLOAT64) IS NULL
              OR (
                (
                  CAST(2 AS FLOAT64) * `shifted_derived_1`.`fit`
                ) + (
                  CAST(3 AS FLOAT64) * `shifted_derived_1`.`engagement`
                )
              ) / NULLIF(CAST(5 AS FLOAT64), 0) IS NULL
              THEN NULL
              ELSE LEAST(
                CAST(100 AS FLOAT64),
                (
                  (
                    CAST(2 AS FLOAT64) * `shifted_derived_1`.`fit`
                  ) + (
                    CAST(3 AS FLOAT64) * `shifted_derived_1`.`engagement`
                  )
                ) / NULLIF(CAST(5 AS FLOAT64), 0)
              )
            END AS FLOAT64)
          )
          WHEN CAST(FORMAT(
            '%.16g',
            CAST(CASE
              WHEN CAST(100 AS FLOAT64) IS NULL
              OR (
                (
                  CAST(2 AS FLOAT64) * `shifted_derived_1`.`fit`
                ) + (
                  CAST(3 AS FLOAT64) * `shifted_derived_1`.`engagement`
                )
              ) / NULLIF(CAST(5 AS FLOAT64), 0) IS NULL
              THEN NULL
              ELSE LEAST(
                CAST(100 AS FLOAT64),
                (
                  (
                    CAST(2 AS FLOAT64) * `shifted_derived_1`.`fit`
                  ) + (
                    CAST(3 AS FLOAT64) * `shifted_derived_1`.`engagement`
                  )
                ) / NULLIF(CAST(5 AS FLOAT64), 0)
              )
            END AS FLOAT64)
          ) AS FLOAT64) = CAST(CASE
            WHEN CAST(100 AS FLOAT64) IS NULL
            OR (
              (
                CAST(2 AS FLOAT64) * `shifted_derived_1`.`fit`
              ) + (
                CAST(3 AS FLOAT64) * `shifted_derived_1`.`engagement`
              )
            ) / NULLIF(CAST(5 AS FLOAT64), 0) IS NULL
            THEN NULL
            ELSE LEAST(
              CAST(100 AS FLOAT64),
              (
                (
                  CAST(2 AS FLOAT64) * `shifted_derived_1`.`fit`
                ) + (
                  CAST(3 AS FLOAT64) * `shifted_derived_1`.`engagement`
                )
              ) / NULLIF(CAST(5 AS FLOAT64), 0)
            )
          END AS FLOAT64)
          THEN FORMAT(
            '%.16g',
            CAST(CASE
              WHEN CAST(100 AS FLOAT64) IS NULL
              OR (
                (
                  CAST(2 AS FLOAT64) * `shifted_derived_1`.`fit`
                ) + (
                  CAST(3 AS FLOAT64) * `shifted_derived_1`.`engagement`
                )
              ) / NULLIF(CAST(5 AS FLOAT64), 0) IS NULL
              THEN NULL
              ELSE LEAST(
                CAST(100 AS FLOAT64),
                (
                  (
                    CAST(2 AS FLOAT64) * `shifted_derived_1`.`fit`
                  ) + (
                    CAST(3 AS FLOAT64) * `shifted_derived_1`.`engagement`
                  )
                ) / NULLIF(CAST(5 AS FLOAT64), 0)
              )
            END AS FLOAT64)
          )
          ELSE FORMAT(
            '%.17g',
            CAST(CASE
              WHEN CAST(100 AS FLOAT64) IS NULL
              OR (
                (
                  CAST(2 AS FLOAT64) * `shifted_derived_1`.`fit`
                ) + (
                  CAST(3 AS FLOAT64) * `shifted_derived_1`.`engagement`
                )
              ) / NULLIF(CAST(5 AS FLOAT64), 0) IS NULL
              THEN NULL
              ELSE LEAST(
                CAST(100 AS FLOAT64),
                (
                  (
                    CAST(2 AS FLOAT64) * `shifted_derived_1`.`fit`
                  ) + (
                    CAST(3 AS FLOAT64) * `shifted_derived_1`.`engagement`
                  )
                ) / NULLIF(CAST(5 AS FLOAT64), 0)
              )
            END AS FLOAT64)
          )
        END AS NUMERIC),
        2
      ) AS FLOAT64)
    END AS `total`,
    CASE
      WHEN NOT (
        ABS(
          `shifted_derived_1`.`engagement` - `shifted_derived_1`.`shifted_engagement_604800`
        ) < 4503599627370496
      )
      THEN `shifted_derived_1`.`engagement` - `shifted_derived_1`.`shifted_engagement_604800`
      ELSE CAST(ROUND(
        CAST(CASE
          WHEN CAST(FORMAT(
            '%.15g',
            `shifted_derived_1`.`engagement` - `shifted_derived_1`.`shifted_engagement_604800`
          ) AS FLOAT64) = `shifted_derived_1`.`engagement` - `shifted_derived_1`.`shifted_engagement_604800`
          THEN FORMAT(
            '%.15g',
            `shifted_derived_1`.`engagement` - `shifted_derived_1`.`shifted_engagement_604800`
          )
          WHEN CAST(FORMAT(
            '%.16g',
            `shifted_derived_1`.`engagement` - `shifted_derived_1`.`shifted_engagement_604800`
          ) AS FLOAT64) = `shifted_derived_1`.`engagement` - `shifted_derived_1`.`shifted_engagement_604800`
          THEN FORMAT(
            '%.16g',
            `shifted_derived_1`.`engagement` - `shifted_derived_1`.`shifted_engagement_604800`
          )
          ELSE FORMAT(
            '%.17g',
            `shifted_derived_1`.`engagement` - `shifted_derived_1`.`shifted_engagement_604800`
          )
        END AS NUMERIC),
        2
      ) AS FLOAT64)
    END AS `change`,
    CASE
      WHEN `shifted_derived_1`.`fit` IS NULL
      THEN NULL
      WHEN `shifted_derived_1`.`fit` >= CAST(40 AS FLOAT64)
      THEN 'strong'
      WHEN `shifted_derived_1`.`fit` >= CAST(25 AS FLOAT64)
      THEN 'good'
      WHEN `shifted_derived_1`.`fit` >= CAST(10 AS FLOAT64)
      THEN 'fair'
      ELSE 'poor'
    END AS `fit_tier`,
    CASE
      WHEN `shifted_derived_1`.`engagement` IS NULL
      THEN NULL
      WHEN `shifted_derived_1`.`engagement` >= CAST(60 AS FLOAT64)
      THEN 'hot'
      WHEN `shifted_derived_1`.`engagement` >= CAST(30 AS FLOAT64)
      THEN 'warm'
      WHEN `shifted_derived_1`.`engagement` >= CAST(10 AS FLOAT64)
      THEN 'lukewarm'
      ELSE 'cold'
    END AS `engagement_tier`,
    COALESCE(ABS(`shifted_derived_1`.`fit` - `shifted_derived_1`.`engagement`) >= 50, FALSE) AS `lopsided`,
    COALESCE(
      `shifted_derived_1`.`engagement` > `shifted_derived_1`.`shifted_engagement_604800`,
      FALSE
    ) AS `rising`
  FROM `shifted_derived_1`
), `derived_2` AS (
  SELECT
    `derived_1`.*,
    CASE
      WHEN `derived_1`.`total` IS NULL
      THEN NULL
      WHEN (
        RANK() OVER (
          PARTITION BY `derived_1`.`own_as_of_us`, `derived_1`.`as_of_us`
          ORDER BY `derived_1`.`total` DESC
        ) - 1
      ) * 100 < CAST(5 AS FLOAT64) * COUNT(`derived_1`.`total`) OVER (PARTITION BY `derived_1`.`own_as_of_us`, `derived_1`.`as_of_us`)
      THEN 'a_list'
      WHEN (
        RANK() OVER (
          PARTITION BY `derived_1`.`own_as_of_us`, `derived_1`.`as_of_us`
          ORDER BY `derived_1`.`total` DESC
        ) - 1
      ) * 100 < CAST(25 AS FLOAT64) * COUNT(`derived_1`.`total`) OVER (PARTITION BY `derived_1`.`own_as_of_us`, `derived_1`.`as_of_us`)
      THEN 'b_list'
      ELSE 'c_list'
    END AS `rank`,
    CASE
      WHEN `derived_1`.`fit_tier` = 'strong' AND `derived_1`.`engagement_tier` = 'hot'
      THEN 'A1'
      WHEN `derived_1`.`fit_tier` = 'strong' AND `derived_1`.`engagement_tier` = 'warm'
      THEN 'A2'
      WHEN `derived_1`.`fit_tier` = 'strong' AND `derived_1`.`engagement_tier` = 'lukewarm'
      THEN 'A3'
      WHEN `derived_1`.`fit_tier` = 'strong' AND `derived_1`.`engagement_tier` = 'cold'
      THEN 'A4'
      WHEN `derived_1`.`fit_tier` = 'good' AND `derived_1`.`engagement_tier` = 'hot'
      THEN 'B1'
      WHEN `derived_1`.`fit_tier` = 'good' AND `derived_1`.`engagement_tier` = 'warm'
      THEN 'B2'
      WHEN `derived_1`.`fit_tier` = 'good' AND `derived_1`.`engagement_tier` = 'lukewarm'
      THEN 'B3'
      WHEN `derived_1`.`fit_tier` = 'good' AND `derived_1`.`engagement_tier` = 'cold'
      THEN 'B4'
      WHEN `derived_1`.`fit_tier` = 'fair' AND `derived_1`.`engagement_tier` = 'hot'
      THEN 'C1'
      WHEN `derived_1`.`fit_tier` = 'fair' AND `derived_1`.`engagement_tier` = 'warm'
      THEN 'C2'
      WHEN `derived_1`.`fit_tier` = 'fair' AND `derived_1`.`engagement_tier` = 'lukewarm'
      THEN 'C3'
      WHEN `derived_1`.`fit_tier` = 'fair' AND `derived_1`.`engagement_tier` = 'cold'
      THEN 'C4'
      WHEN `derived_1`.`fit_tier` = 'poor' AND `derived_1`.`engagement_tier` = 'hot'
      THEN 'D1'
      WHEN `derived_1`.`fit_tier` = 'poor' AND `derived_1`.`engagement_tier` = 'warm'
      THEN 'D2'
      WHEN `derived_1`.`fit_tier` = 'poor' AND `derived_1`.`engagement_tier` = 'lukewarm'
      THEN 'D3'
      WHEN `derived_1`.`fit_tier` = 'poor' AND `derived_1`.`engagement_tier` = 'cold'
      THEN 'D4'
    END AS `grid`,
    (
      COALESCE(`derived_1`.`fit_tier` = 'strong', FALSE)
      OR COALESCE(`derived_1`.`fit_tier` = 'good', FALSE)
    )
    AND COALESCE(`derived_1`.`engagement_tier` = 'cold', FALSE) AS `nurture`
  FROM `derived_1`
), `shifted_derived_3` AS (
  SELECT
    `c`.*,
    `s0`.`rank` AS `shifted_rank_302400`
  FROM `derived_2` AS `c`
  LEFT JOIN `derived_2` AS `s0`
    ON `s0`.`id` = `c`.`id` AND `s0`.`as_of_us` = `c`.`as_of_us` - 302400000000
), `derived_3` AS (
  SELECT
    `shifted_derived_3`.*,
    COALESCE(`shifted_derived_3`.`grid` IN ('A1', 'A2', 'B1'), FALSE) AS `sales_ready`,
    COALESCE(`shifted_derived_3`.`momentum` >= 40, FALSE)
    AND COALESCE(`shifted_derived_3`.`grid` <> 'A1', FALSE) AS `self_serve`,
    COALESCE(`shifted_derived_3`.`shifted_rank_302400` = 'a_list', FALSE) AS `was_rank`
  FROM `shifted_derived_3`
), `derived_4` AS (
  SELECT
    `derived_3`.*,
    COALESCE(`derived_3`.`engagement` >= 60, FALSE)
    AND NOT (
      `derived_3`.`sales_ready`
    ) AS `product_qualified`
  FROM `derived_3`
)
SELECT
  `derived_4`.`id`,
  `derived_4`.`fit`,
  `derived_4`.`engagement`,
  `derived_4`.`momentum`,
  `derived_4`.`total`,
  `derived_4`.`change`,
  `derived_4`.`fit_tier`,
  `derived_4`.`engagement_tier`,
  `derived_4`.`rank`,
  `derived_4`.`grid`,
  `derived_4`.`sales_ready`,
  `derived_4`.`product_qualified`,
  `derived_4`.`nurture`,
  `derived_4`.`self_serve`,
  `derived_4`.`lopsided`,
  `derived_4`.`rising`,
  `derived_4`.`was_rank`,
  `derived_4`.`fit__target_industry`,
  `derived_4`.`fit__company_size`,
  `derived_4`.`fit__enterprise`,
  `derived_4`.`fit__high_revenue_per_employee`,
  `derived_4`.`fit__senior_title`,
  `derived_4`.`fit__personal_title`,
  `derived_4`.`fit__free_email`,
  `derived_4`.`fit__academic_address`,
  `derived_4`.`fit__consultancy`,
  `derived_4`.`fit__no_company_name`,
  `derived_4`.`fit__north_america`,
  `derived_4`.`fit__left_a_phone_number`,
  `derived_4`.`fit__outside_sales_territories`,
  `derived_4`.`fit__already_a_customer`,
  CASE
    WHEN NOT (
      ABS(`derived_4`.`engagement__page_views_half_life_a_week`) < 4503599627370496
    )
    THEN `derived_4`.`engagement__page_views_half_life_a_week`
    ELSE CAST(ROUND(
      CAST(CASE
        WHEN CAST(FORMAT('%.15g', `derived_4`.`engagement__page_views_half_life_a_week`) AS FLOAT64) = `derived_4`.`engagement__page_views_half_life_a_week`
        THEN FORMAT('%.15g', `derived_4`.`engagement__page_views_half_life_a_week`)
        WHEN CAST(FORMAT('%.16g', `derived_4`.`engagement__page_views_half_life_a_week`) AS FLOAT64) = `derived_4`.`engagement__page_views_half_life_a_week`
        THEN FORMAT('%.16g', `derived_4`.`engagement__page_views_half_life_a_week`)
        ELSE FORMAT('%.17g', `derived_4`.`engagement__page_views_half_life_a_week`)
      END AS NUMERIC),
      2
    ) AS FLOAT64)
  END AS `engagement__page_views_half_life_a_week`,
  CASE
    WHEN NOT (
      ABS(`derived_4`.`engagement__docs_reading`) < 4503599627370496
    )
    THEN `derived_4`.`engagement__docs_reading`
    ELSE CAST(ROUND(
      CAST(CASE
        WHEN CAST(FORMAT('%.15g', `derived_4`.`engagement__docs_reading`) AS FLOAT64) = `derived_4`.`engagement__docs_reading`
        THEN FORMAT('%.15g', `derived_4`.`engagement__docs_reading`)
        WHEN CAST(FORMAT('%.16g', `derived_4`.`engagement__docs_reading`) AS FLOAT64) = `derived_4`.`engagement__docs_reading`
        THEN FORMAT('%.16g', `derived_4`.`engagement__docs_reading`)
        ELSE FORMAT('%.17g', `derived_4`.`engagement__docs_reading`)
      END AS NUMERIC),
      2
    ) AS FLOAT64)
  END AS `engagement__docs_reading`,
  `derived_4`.`engagement__explored_the_site`,
  `derived_4`.`engagement__looked_at_pricing_weeks_ago`,
  `derived_4`.`engagement__email_clicks_once_a_day`,
  `derived_4`.`engagement__opens_recent_emails`,
  `derived_4`.`engagement__started_a_trial`,
  `derived_4`.`engagement__key_features_weekly`,
  `derived_4`.`engagement__invited_the_team_early`,
  `derived_4`.`engagement__invited_five_seats_or_more`,
  `derived_4`.`engagement__trial_ending_without_a_purchase`,
  `derived_4`.`engagement__quiet_for_three_weeks`,
  `derived_4`.`engagement__went_quiet`,
  `derived_4`.`engagement__blocked_by_a_bug`,
  `derived_4`.`engagement__sales_called_this_week`,
  `derived_4`.`engagement__unsubscribed`
FROM `derived_4`
WHERE
  `derived_4`.`requested`;

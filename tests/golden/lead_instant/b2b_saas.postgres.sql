WITH "instants" AS (
  SELECT
    "l"."id" AS "instant_lead",
    CASE
      WHEN "l"."created_at" >= '1900-01-01' AND "l"."created_at" < '2040-01-01'
      THEN CAST(pg_catalog.date_part('epoch', "l"."created_at") * 1000000 AS BIGINT)
      ELSE CAST(EXTRACT(EPOCH FROM "l"."created_at") * 1000000 AS BIGINT)
    END + 1209600000000 AS "as_of_us"
  FROM "leads" AS "l"
  WHERE
    NOT "l"."created_at" IS NULL
), "scan" AS (
  SELECT
    "e"."lead_id" AS "lead_key",
    "i"."as_of_us" AS "as_of_us",
    "e"."event_type" AS "event_type",
    "i"."as_of_us" - CASE
      WHEN "e"."occurred_at" >= '1900-01-01' AND "e"."occurred_at" < '2040-01-01'
      THEN CAST(pg_catalog.date_part('epoch', "e"."occurred_at") * 1000000 AS BIGINT)
      ELSE CAST(EXTRACT(EPOCH FROM "e"."occurred_at") * 1000000 AS BIGINT)
    END AS "age_us",
    "e"."url" AS "prop_url",
    "e"."form" AS "prop_form"
  FROM "events" AS "e"
  JOIN "instants" AS "i"
    ON "e"."lead_id" = "i"."instant_lead"
  WHERE
    "e"."event_type" IN (
      'page_view',
      'form_submit',
      'email_open',
      'email_click',
      'content_download',
      'webinar_attend',
      'demo_request'
    )
    AND "i"."as_of_us" - CASE
      WHEN "e"."occurred_at" >= '1900-01-01' AND "e"."occurred_at" < '2040-01-01'
      THEN CAST(pg_catalog.date_part('epoch', "e"."occurred_at") * 1000000 AS BIGINT)
      ELSE CAST(EXTRACT(EPOCH FROM "e"."occurred_at") * 1000000 AS BIGINT)
    END >= 0
), "agg" AS (
  SELECT
    "scan"."lead_key",
    "scan"."as_of_us",
    COUNT(*) FILTER(WHERE
      "scan"."event_type" = 'email_open' AND "scan"."age_us" < 2592000000000) AS "agg_a3",
    COUNT(*) FILTER(WHERE
      "scan"."event_type" = 'email_click' AND "scan"."age_us" < 2592000000000) AS "agg_a4",
    SUM(
      POWER(
        CAST(0.5 AS DOUBLE PRECISION),
        CAST("scan"."age_us" AS DOUBLE PRECISION) / CAST(1209600000000 AS DOUBLE PRECISION)
      )
    ) FILTER(WHERE
      "scan"."event_type" = 'page_view') AS "agg_a9",
    CASE WHEN MIN("scan"."age_us") < 2592000000000 THEN 1 ELSE 0 END AS "agg_a10",
    CASE WHEN MIN("scan"."age_us") < 5184000000000 THEN 1 ELSE 0 END AS "agg_a11",
    CASE WHEN MIN("scan"."age_us") < 7776000000000 THEN 1 ELSE 0 END AS "agg_a12",
    CASE WHEN MIN("scan"."age_us") < 15552000000000 THEN 1 ELSE 0 END AS "agg_a13",
    BIT_OR(
      CASE
        WHEN "scan"."event_type" = 'page_view'
        AND "scan"."age_us" < 604800000000
        AND "scan"."prop_url" = '/pricing'
        THEN 1
        ELSE 0
      END + CASE
        WHEN "scan"."event_type" = 'page_view'
        AND "scan"."age_us" < 1209600000000
        AND LEFT("scan"."prop_url", LENGTH('/docs/')) = '/docs/'
        THEN 2
        ELSE 0
      END + CASE
        WHEN "scan"."event_type" = 'form_submit' AND "scan"."prop_form" = 'contact-us'
        THEN 4
        ELSE 0
      END + CASE
        WHEN "scan"."event_type" = 'demo_request' AND "scan"."age_us" < 2592000000000
        THEN 8
        ELSE 0
      END + CASE
        WHEN "scan"."event_type" = 'webinar_attend' AND "scan"."age_us" < 7776000000000
        THEN 16
        ELSE 0
      END
    ) AS "flags"
  FROM "scan"
  GROUP BY
    "scan"."lead_key",
    "scan"."as_of_us"
), "sequence_scan" AS (
  SELECT
    "e"."lead_id" AS "lead_key",
    "i"."as_of_us" AS "as_of_us",
    "e"."event_type" AS "event_type",
    "i"."as_of_us" - CASE
      WHEN "e"."occurred_at" >= '1900-01-01' AND "e"."occurred_at" < '2040-01-01'
      THEN CAST(pg_catalog.date_part('epoch', "e"."occurred_at") * 1000000 AS BIGINT)
      ELSE CAST(EXTRACT(EPOCH FROM "e"."occurred_at") * 1000000 AS BIGINT)
    END AS "age_us"
  FROM "events" AS "e"
  JOIN "instants" AS "i"
    ON "e"."lead_id" = "i"."instant_lead"
  WHERE
    "e"."event_type" IN ('content_download', 'demo_request')
    AND "i"."as_of_us" - CASE
      WHEN "e"."occurred_at" >= '1900-01-01' AND "e"."occurred_at" < '2040-01-01'
      THEN CAST(pg_catalog.date_part('epoch', "e"."occurred_at") * 1000000 AS BIGINT)
      ELSE CAST(EXTRACT(EPOCH FROM "e"."occurred_at") * 1000000 AS BIGINT)
    END >= 0
), "sequenced" AS (
  SELECT
    *,
    MIN(
      CASE
        WHEN "sequence_scan"."event_type" = 'content_download'
        THEN "sequence_scan"."age_us"
      END
    ) OVER (
      PARTITION BY "sequence_scan"."lead_key" COLLATE "C", "sequence_scan"."as_of_us"
      ORDER BY "sequence_scan"."age_us" DESC NULLS LAST
      RANGE BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
    ) AS "nearest_first_a8"
  FROM "sequence_scan"
), "sequence_agg" AS (
  SELECT
    "sequenced"."lead_key",
    "sequenced"."as_of_us",
    COUNT(*) FILTER(WHERE
      "sequenced"."event_type" = 'demo_request'
      AND "sequenced"."nearest_first_a8" - "sequenced"."age_us" <= 259200000000) > 0 AS "agg_a8"
  FROM "sequenced"
  GROUP BY
    "sequenced"."lead_key",
    "sequenced"."as_of_us"
), "base" AS (
  SELECT
    "l"."id" AS "id",
    "l"."email" AS "lead_email",
    "l"."job_title" AS "lead_job_title",
    "l"."industry" AS "lead_industry",
    "l"."employees" AS "lead_employees",
    "l"."country" AS "lead_country",
    "i"."as_of_us",
    COALESCE("agg"."flags" & 1, 0) AS "agg_a1",
    COALESCE("agg"."flags" & 2, 0) AS "agg_a2",
    COALESCE("agg"."agg_a3", 0) AS "agg_a3",
    COALESCE("agg"."agg_a4", 0) AS "agg_a4",
    COALESCE("agg"."flags" & 4, 0) AS "agg_a5",
    COALESCE("agg"."flags" & 8, 0) AS "agg_a6",
    COALESCE("agg"."flags" & 16, 0) AS "agg_a7",
    COALESCE("sequence_agg"."agg_a8", FALSE) AS "agg_a8",
    COALESCE("agg"."agg_a9", 0) AS "agg_a9",
    COALESCE("agg"."agg_a10", 0) AS "agg_a10",
    COALESCE("agg"."agg_a11", 0) AS "agg_a11",
    COALESCE("agg"."agg_a12", 0) AS "agg_a12",
    COALESCE("agg"."agg_a13", 0) AS "agg_a13"
  FROM "leads" AS "l"
  JOIN "instants" AS "i"
    ON "l"."id" = "i"."instant_lead"
  LEFT JOIN "agg"
    ON "l"."id" = "agg"."lead_key" AND "i"."as_of_us" = "agg"."as_of_us"
  LEFT JOIN "sequence_agg"
    ON "l"."id" = "sequence_agg"."lead_key"
    AND "i"."as_of_us" = "sequence_agg"."as_of_us"
), "points" AS (
  SELECT
    "base".*,
    CAST(CASE
      WHEN "base"."lead_industry" IN ('software', 'saas', 'fintech')
      THEN 20
      ELSE 0
    END AS DOUBLE PRECISION) AS "fit__target_industry",
    CAST(CASE WHEN "base"."lead_employees" BETWEEN 50 AND 1000 THEN 15 ELSE 0 END AS DOUBLE PRECISION) AS "fit__mid_market_company",
    CAST(CASE WHEN "base"."lead_employees" > 1000 THEN 10 ELSE 0 END AS DOUBLE PRECISION) AS "fit__enterprise_company",
    CAST(CASE
      WHEN "base"."lead_job_title" ~ '(?:(?<=[0-9A-Za-z_])(?![0-9A-Za-z_])|(?<![0-9A-Za-z_])(?=[0-9A-Za-z_]))([vV][pP]|[hH][eE][aA][dD]|[dD][iI][rR][eE][cC][tT][oO][rR]|[cC][hH][iI][eE][fF])(?:(?<=[0-9A-Za-z_])(?![0-9A-Za-z_])|(?<![0-9A-Za-z_])(?=[0-9A-Za-z_]))'
      THEN 15
      ELSE 0
    END AS DOUBLE PRECISION) AS "fit__decision_maker",
    CAST(CASE
      WHEN "base"."lead_country" IN ('US', 'CA', 'GB', 'DE', 'FR', 'NL')
      THEN 5
      ELSE 0
    END AS DOUBLE PRECISION) AS "fit__core_market",
    CAST(CASE
      WHEN CASE
        WHEN POSITION('@' IN "base"."lead_email") > 0
        THEN SPLIT_PART(LOWER("base"."lead_email" COLLATE "C"), '@', -1)
      END IN ('gmail.com', 'yahoo.com', 'hotmail.com', 'outlook.com')
      THEN -20
      ELSE 0
    END AS DOUBLE PRECISION) AS "fit__free_email_address",
    CAST(CASE WHEN "base"."lead_industry" = 'education' THEN -30 ELSE 0 END AS DOUBLE PRECISION) AS "fit__education_sector",
    CAST(CASE
      WHEN "base"."lead_job_title" ~ '(?:(?<=[0-9A-Za-z_])(?![0-9A-Za-z_])|(?<![0-9A-Za-z_])(?=[0-9A-Za-z_]))([sS][tT][uU][dD][eE][nN][tT]|[iI][nN][tT][eE][rR][nN])(?:(?<=[0-9A-Za-z_])(?![0-9A-Za-z_])|(?<![0-9A-Za-z_])(?=[0-9A-Za-z_]))'
      THEN -15
      ELSE 0
    END AS DOUBLE PRECISION) AS "fit__student_or_intern",
    CAST(CASE WHEN "base"."agg_a1" > 0 THEN 15 ELSE 0 END AS DOUBLE PRECISION) AS "engagement__viewed_pricing_this_week",
    CAST(CASE WHEN "base"."agg_a2" > 0 THEN 5 ELSE 0 END AS DOUBLE PRECISION) AS "engagement__read_the_docs",
    CAST(CASE WHEN "base"."agg_a3" >= 3 THEN 5 ELSE 0 END AS DOUBLE PRECISION) AS "engagement__opens_emails_regularly",
    CASE
      WHEN CAST(2 AS DOUBLE PRECISION) * CAST("base"."agg_a4" AS DOUBLE PRECISION) < CAST(10 AS DOUBLE PRECISION)
      THEN CAST(2 AS DOUBLE PRECISION) * CAST("base"."agg_a4" AS DOUBLE PRECISION)
      ELSE CAST(10 AS DOUBLE PRECISION)
    END AS "engagement__email_clicks",
    CAST(CASE WHEN "base"."agg_a5" > 0 THEN 50 ELSE 0 END AS DOUBLE PRECISION) AS "engagement__contact_form",
    CAST(CASE WHEN "base"."agg_a6" > 0 THEN 30 ELSE 0 END AS DOUBLE PRECISION) AS "engagement__requested_a_demo",
    CAST(CASE WHEN "base"."agg_a7" > 0 THEN 20 ELSE 0 END AS DOUBLE PRECISION) AS "engagement__attended_a_webinar",
    CAST(CASE WHEN "base"."agg_a8" THEN 25 ELSE 0 END AS DOUBLE PRECISION) AS "engagement__download_then_demo",
    CASE
      WHEN CAST(1 AS DOUBLE PRECISION) * CAST("base"."agg_a9" AS DOUBLE PRECISION) < CAST(20 AS DOUBLE PRECISION)
      THEN CAST(1 AS DOUBLE PRECISION) * CAST("base"."agg_a9" AS DOUBLE PRECISION)
      ELSE CAST(20 AS DOUBLE PRECISION)
    END AS "engagement__page_views",
    CAST(CASE WHEN "base"."agg_a10" = 0 THEN -10 ELSE 0 END AS DOUBLE PRECISION) AS "engagement__quiet_for_30_days",
    CAST(CASE WHEN "base"."agg_a11" = 0 THEN -10 ELSE 0 END AS DOUBLE PRECISION) AS "engagement__quiet_for_60_days",
    CAST(CASE WHEN "base"."agg_a12" = 0 THEN -20 ELSE 0 END AS DOUBLE PRECISION) AS "engagement__quiet_for_90_days",
    COALESCE("base"."agg_a13" = 0, FALSE) AS "engagement__dormant_for_180_days"
  FROM "base"
  OFFSET 0
), "totals" AS (
  SELECT
    "points".*,
    "points"."fit__target_industry" + "points"."fit__mid_market_company" + "points"."fit__enterprise_company" + "points"."fit__decision_maker" + "points"."fit__core_market" + "points"."fit__free_email_address" + "points"."fit__education_sector" + "points"."fit__student_or_intern" AS "unclamped_fit",
    CASE
      WHEN "points"."engagement__dormant_for_180_days"
      THEN CAST(0 AS DOUBLE PRECISION)
      ELSE "points"."engagement__viewed_pricing_this_week" + "points"."engagement__read_the_docs" + "points"."engagement__opens_emails_regularly" + "points"."engagement__email_clicks" + "points"."engagement__contact_form" + "points"."engagement__requested_a_demo" + "points"."engagement__attended_a_webinar" + "points"."engagement__download_then_demo" + "points"."engagement__page_views" + "points"."engagement__quiet_for_30_days" + "points"."engagement__quiet_for_60_days" + "points"."engagement__quiet_for_90_days"
    END AS "unclamped_engagement"
  FROM "points"
  OFFSET 0
), "clamped" AS (
  SELECT
    "totals".*,
    CASE
      WHEN "totals"."unclamped_fit" < CAST(0 AS DOUBLE PRECISION)
      THEN CAST(0 AS DOUBLE PRECISION)
      WHEN "totals"."unclamped_fit" > CAST(100 AS DOUBLE PRECISION)
      THEN CAST(100 AS DOUBLE PRECISION)
      ELSE "totals"."unclamped_fit"
    END AS "clamped_fit",
    CASE
      WHEN "totals"."unclamped_engagement" < CAST(0 AS DOUBLE PRECISION)
      THEN CAST(0 AS DOUBLE PRECISION)
      WHEN "totals"."unclamped_engagement" > CAST(100 AS DOUBLE PRECISION)
      THEN CAST(100 AS DOUBLE PRECISION)
      ELSE "totals"."unclamped_engagement"
    END AS "clamped_engagement"
  FROM "totals"
  OFFSET 0
), "scored" AS (
  SELECT
    "clamped".*,
    "clamped"."clamped_fit" AS "fit",
    CASE
      WHEN NOT (
        ABS("clamped"."clamped_engagement") < 4503599627370496
      )
      THEN "clamped"."clamped_engagement"
      ELSE CAST(ROUND(CAST(CAST("clamped"."clamped_engagement" AS TEXT) AS DECIMAL(38, 9)), 2) AS DOUBLE PRECISION)
    END AS "engagement"
  FROM "clamped"
  OFFSET 0
), "derived_1" AS (
  SELECT
    "scored".*,
    CASE
      WHEN NOT (
        ABS(
          (
            CAST(0.4 AS DOUBLE PRECISION) * "scored"."fit"
          ) + (
            CAST(0.6 AS DOUBLE PRECISION) * "scored"."engagement"
          )
        ) < 4503599627370496
      )
      THEN (
        CAST(0.4 AS DOUBLE PRECISION) * "scored"."fit"
      ) + (
        CAST(0.6 AS DOUBLE PRECISION) * "scored"."engagement"
      )
      ELSE CAST(ROUND(
        CAST(CAST((
          CAST(0.4 AS DOUBLE PRECISION) * "scored"."fit"
        ) + (
          CAST(0.6 AS DOUBLE PRECISION) * "scored"."engagement"
        ) AS TEXT) AS DECIMAL(38, 9)),
        2
      ) AS DOUBLE PRECISION)
    END AS "total"
  FROM "scored"
  OFFSET 0
), "derived_2" AS (
  SELECT
    "derived_1".*,
    CASE
      WHEN "derived_1"."total" IS NULL
      THEN NULL
      WHEN "derived_1"."total" >= CAST(76 AS DOUBLE PRECISION)
      THEN 'decision'
      WHEN "derived_1"."total" >= CAST(51 AS DOUBLE PRECISION)
      THEN 'evaluation'
      WHEN "derived_1"."total" >= CAST(26 AS DOUBLE PRECISION)
      THEN 'interest'
      ELSE 'awareness'
    END AS "stage",
    COALESCE("derived_1"."total" >= 70, FALSE)
    AND COALESCE("derived_1"."fit" >= 40, FALSE) AS "mql"
  FROM "derived_1"
  OFFSET 0
)
SELECT
  "derived_2"."id",
  "derived_2"."fit",
  "derived_2"."engagement",
  "derived_2"."total",
  "derived_2"."stage",
  "derived_2"."mql",
  "derived_2"."fit__target_industry",
  "derived_2"."fit__mid_market_company",
  "derived_2"."fit__enterprise_company",
  "derived_2"."fit__decision_maker",
  "derived_2"."fit__core_market",
  "derived_2"."fit__free_email_address",
  "derived_2"."fit__education_sector",
  "derived_2"."fit__student_or_intern",
  "derived_2"."engagement__viewed_pricing_this_week",
  "derived_2"."engagement__read_the_docs",
  "derived_2"."engagement__opens_emails_regularly",
  "derived_2"."engagement__email_clicks",
  "derived_2"."engagement__contact_form",
  "derived_2"."engagement__requested_a_demo",
  "derived_2"."engagement__attended_a_webinar",
  "derived_2"."engagement__download_then_demo",
  CASE
    WHEN NOT (
      ABS("derived_2"."engagement__page_views") < 4503599627370496
    )
    THEN "derived_2"."engagement__page_views"
    ELSE CAST(ROUND(CAST(CAST("derived_2"."engagement__page_views" AS TEXT) AS DECIMAL(38, 9)), 2) AS DOUBLE PRECISION)
  END AS "engagement__page_views",
  "derived_2"."engagement__quiet_for_30_days",
  "derived_2"."engagement__quiet_for_60_days",
  "derived_2"."engagement__quiet_for_90_days",
  "derived_2"."engagement__dormant_for_180_days"
FROM "derived_2";

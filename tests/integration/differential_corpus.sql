-- Differential test corpus: every query is run (a) through the federated
-- planner on three nodes that each hold part of the Witvliet 2021 data and
-- (b) on one DuckDB holding all of it, and the results must be equal.
--
-- Format: lines starting with `--` are comments, each query has a
-- `-- name:` line above it and ends with a `;` at the end of a line.
-- No query contains a semicolon anywhere else.
--
-- Determinism rules followed here: every LIMIT/OFFSET sits on an ORDER BY
-- that is a total order over the projected columns, ranking window functions
-- order by unique keys, ordered aggregates carry their own ORDER BY, and no
-- ORDER BY feeding a LIMIT or rank uses a floating-point aggregate.
--
-- Dataset ids are '/<institution>/witvliet2021/datasetN' (N = 1..8):
-- toronto 1-3, harvard 4-6, lunenfeld 7-8.

-- ---------------------------------------------------------------------------
-- Plain counts, projections and filters
-- ---------------------------------------------------------------------------

-- name: count all synapse rows
SELECT count(*) AS n FROM synapse;

-- name: count per dataset
SELECT dataset_id, count(*) AS n
FROM synapse
GROUP BY dataset_id
ORDER BY dataset_id;

-- name: select star from dataset
SELECT * FROM dataset ORDER BY id;

-- name: select star with equality filter
SELECT *
FROM synapse
WHERE pre = 'ADAL' AND post = 'AVAR';

-- name: projection with IN filter
SELECT dataset_id, synapse_id, pre, post, sections
FROM synapse
WHERE pre IN ('AIBL', 'AIBR', 'AIYL', 'AIYR') AND post IN ('AIZL', 'AIZR');

-- name: BETWEEN filter on sections
SELECT dataset_id, count(*) AS n, min(sections) AS lo, max(sections) AS hi
FROM synapse
WHERE sections BETWEEN 10 AND 20
GROUP BY dataset_id
ORDER BY dataset_id;

-- name: LIKE prefix and suffix on cell names
SELECT dataset_id, name, class, type
FROM cell
WHERE name LIKE 'AV%' AND name NOT LIKE '%R';

-- name: OR and NOT filters
SELECT dataset_id, count(*) AS n
FROM synapse
WHERE (pre = 'ADAL' OR post = 'ADAL') AND NOT (sections > 5)
GROUP BY dataset_id
ORDER BY dataset_id;

-- name: size IS NULL rows per dataset
SELECT dataset_id, count(*) AS n_null_size
FROM synapse
WHERE size IS NULL
GROUP BY dataset_id
ORDER BY dataset_id;

-- name: count(size) vs count(star) with NULLs
SELECT count(*) AS n_rows, count(size) AS n_size, count(*) - count(size) AS n_missing,
       count(post_is_branch) AS n_branch_known
FROM synapse;

-- name: boolean column post_is_branch
SELECT post_is_branch, count(*) AS n, sum(weight) AS total_weight
FROM synapse
GROUP BY post_is_branch
ORDER BY post_is_branch NULLS LAST;

-- name: filter on boolean column with IS NOT TRUE
SELECT dataset_id, count(*) AS n
FROM synapse
WHERE post_is_branch IS NOT TRUE AND pre LIKE 'RIA%'
GROUP BY dataset_id
ORDER BY dataset_id;

-- name: harvard datasets only (one node)
SELECT dataset_id, count(*) AS n, count(DISTINCT pre) AS n_pre, avg(size) AS mean_size
FROM synapse
WHERE dataset_id LIKE '/harvard/%'
GROUP BY dataset_id
ORDER BY dataset_id;

-- name: single dataset by id (one node)
SELECT pre, count(*) AS n
FROM synapse
WHERE dataset_id = '/lunenfeld/witvliet2021/dataset8' AND pre LIKE 'AI%'
GROUP BY pre
ORDER BY pre;

-- name: datasets of two nodes with IN list of ids
SELECT dataset_id, count(*) AS n
FROM gap_junction
WHERE dataset_id IN ('/toronto/witvliet2021/dataset1', '/lunenfeld/witvliet2021/dataset7')
GROUP BY dataset_id
ORDER BY dataset_id;

-- name: DISTINCT pre-synaptic cells starting with A
SELECT DISTINCT pre
FROM synapse
WHERE pre LIKE 'A%'
ORDER BY pre;

-- name: DISTINCT on two columns of cell
SELECT DISTINCT class, type
FROM cell
WHERE type IN ('inter', 'motor');

-- ---------------------------------------------------------------------------
-- Empty results and aggregates over empty input
-- ---------------------------------------------------------------------------

-- name: empty result for unknown dataset
SELECT dataset_id, synapse_id, pre, post
FROM synapse
WHERE dataset_id = 'nope';

-- name: count over empty input returns one row with 0
SELECT count(*) AS n, count(size) AS n_size, sum(size) AS total, min(pre) AS first_pre, avg(weight) AS mean_weight
FROM synapse
WHERE dataset_id = 'nope';

-- name: grouped aggregate over empty input returns no rows
SELECT dataset_id, count(*) AS n
FROM synapse
WHERE pre = 'NO_SUCH_CELL'
GROUP BY dataset_id;

-- name: contradictory filter matches nothing
SELECT *
FROM cell
WHERE volume_nm3 > 1 AND volume_nm3 < 0;

-- ---------------------------------------------------------------------------
-- Aggregates, GROUP BY expressions, HAVING, DISTINCT aggregates
-- ---------------------------------------------------------------------------

-- name: global aggregates without GROUP BY
SELECT count(*) AS n, sum(size) AS total_size, min(size) AS min_size, max(size) AS max_size,
       avg(size) AS mean_size, avg(weight) AS mean_weight, max(sections) AS max_sections
FROM synapse;

-- name: group by upper(pre)
SELECT upper(pre) AS pre_upper, count(*) AS n
FROM synapse
WHERE pre LIKE 'ri%' OR pre LIKE 'RI%'
GROUP BY upper(pre)
ORDER BY pre_upper;

-- name: group by boolean expression size > 1000000
SELECT size > 1000000 AS big, count(*) AS n, avg(size) AS mean_size
FROM synapse
GROUP BY size > 1000000
ORDER BY big NULLS FIRST;

-- name: group by substring class prefix
SELECT substr(pre, 1, 2) AS prefix2, count(*) AS n, count(DISTINCT post) AS n_post
FROM synapse
GROUP BY substr(pre, 1, 2)
ORDER BY prefix2;

-- name: HAVING on count
SELECT pre, count(*) AS n
FROM synapse
GROUP BY pre
HAVING count(*) > 800
ORDER BY pre;

-- name: HAVING on avg and count distinct
SELECT pre, count(DISTINCT dataset_id) AS n_datasets, avg(size) AS mean_size
FROM synapse
GROUP BY pre
HAVING count(DISTINCT dataset_id) = 8 AND avg(size) > 600000
ORDER BY pre;

-- name: count distinct across all datasets
SELECT count(DISTINCT pre) AS n_pre, count(DISTINCT post) AS n_post,
       count(DISTINCT synapse_id) AS n_synapses, count(DISTINCT dataset_id) AS n_datasets
FROM synapse;

-- name: median and quantiles of size per dataset
SELECT dataset_id, median(size) AS median_size,
       quantile_cont(size, 0.9) AS p90_size, quantile_disc(sections, 0.5) AS median_sections
FROM synapse
GROUP BY dataset_id
ORDER BY dataset_id;

-- name: global median of weight and size
SELECT median(weight) AS median_weight, median(size) AS median_size, quantile_disc(size, 0.25) AS q1_size
FROM synapse;

-- name: min and max of strings and stddev
SELECT dataset_id, min(pre) AS first_pre, max(post) AS last_post, stddev_samp(sections) AS sd_sections
FROM synapse
GROUP BY dataset_id
ORDER BY dataset_id;

-- name: ordered string_agg of dataset stages
SELECT stage, string_agg(id, ',' ORDER BY id) AS ids, count(*) AS n
FROM dataset
GROUP BY stage
ORDER BY stage;

-- ---------------------------------------------------------------------------
-- CASE, COALESCE
-- ---------------------------------------------------------------------------

-- name: CASE buckets of sections
SELECT CASE WHEN sections <= 2 THEN 'small'
            WHEN sections <= 6 THEN 'medium'
            ELSE 'large' END AS bucket,
       count(*) AS n
FROM synapse
GROUP BY 1
ORDER BY bucket;

-- name: COALESCE missing size
SELECT dataset_id, sum(coalesce(size, 0)) AS total_size, sum(CASE WHEN size IS NULL THEN 1 ELSE 0 END) AS n_null
FROM synapse
GROUP BY dataset_id
ORDER BY dataset_id;

-- name: COALESCE cell type
SELECT coalesce(type, 'unknown') AS cell_type, count(*) AS n, count(volume_nm3) AS n_with_volume
FROM cell
GROUP BY coalesce(type, 'unknown')
ORDER BY cell_type;

-- ---------------------------------------------------------------------------
-- Joins
-- ---------------------------------------------------------------------------

-- name: synapse join dataset on id, count and mean size per stage
SELECT d.stage, count(*) AS n_synapses, avg(s.size) AS mean_size, count(DISTINCT s.dataset_id) AS n_datasets
FROM synapse s
JOIN dataset d ON s.dataset_id = d.id
GROUP BY d.stage
ORDER BY d.stage;

-- name: synapses onto AVAL per dataset with age (left join keeps all datasets)
SELECT d.id, d.age_hours, d.stage, count(s.synapse_id) AS n
FROM dataset d
LEFT JOIN synapse s ON s.dataset_id = d.id AND s.post = 'AVAL'
GROUP BY d.id, d.age_hours, d.stage
ORDER BY d.age_hours, d.id;

-- name: synapse join cell on dataset and pre name, per type
SELECT c.type, count(*) AS n, avg(s.weight) AS mean_weight
FROM synapse s
JOIN cell c ON c.dataset_id = s.dataset_id AND c.name = s.pre
GROUP BY c.type
ORDER BY c.type NULLS LAST;

-- name: synapse join cell twice, type to type
SELECT cp.type AS pre_type, cq.type AS post_type, count(*) AS n
FROM synapse s
JOIN cell cp ON cp.dataset_id = s.dataset_id AND cp.name = s.pre
JOIN cell cq ON cq.dataset_id = s.dataset_id AND cq.name = s.post
WHERE cp.type IS NOT NULL AND cq.type IS NOT NULL
GROUP BY cp.type, cq.type
ORDER BY pre_type, post_type;

-- name: left join synapse to cell volume
SELECT s.dataset_id, count(*) AS n, count(c.volume_nm3) AS n_post_with_volume, sum(c.volume_nm3) AS total_volume
FROM synapse s
LEFT JOIN cell c ON c.dataset_id = s.dataset_id AND c.name = s.post
GROUP BY s.dataset_id
ORDER BY s.dataset_id;

-- name: gap junction counts per cell type
SELECT c.type AS cell_type, count(*) AS n_gap_junctions
FROM gap_junction g
JOIN cell c ON c.dataset_id = g.dataset_id AND c.name = g.cell_a
GROUP BY c.type
ORDER BY cell_type NULLS LAST;

-- name: gap junctions per type and stage
SELECT d.stage, c.type AS cell_type, count(*) AS n
FROM gap_junction g
JOIN cell c ON c.dataset_id = g.dataset_id AND (c.name = g.cell_a OR c.name = g.cell_b)
JOIN dataset d ON d.id = g.dataset_id
WHERE c.type IS NOT NULL
GROUP BY d.stage, c.type
ORDER BY d.stage, cell_type;

-- name: cell join ontology_term by class
SELECT o.label AS class_label, o.parent_id, count(*) AS n_cells
FROM cell c
JOIN ontology_term o ON o.id = 'class:' || c.class
WHERE o.kind = 'class' AND c.type = 'sensory'
GROUP BY o.label, o.parent_id
ORDER BY class_label;

-- name: ontology terms per kind (hub and members' terms together)
SELECT kind, count(*) AS n FROM ontology_term GROUP BY kind ORDER BY kind;

-- name: ontology cell terms and their classes
SELECT id, label, parent_id FROM ontology_term WHERE kind = 'cell' ORDER BY id;

-- name: a result column named t
SELECT coalesce(c.type, 'none') AS t, count(*) AS n FROM cell c GROUP BY t ORDER BY t;

-- name: ontology types with their classes
SELECT t.label AS type_label, count(DISTINCT k.id) AS n_classes
FROM ontology_term t
JOIN ontology_term k ON k.parent_id = t.id
WHERE t.kind = 'type' AND k.kind = 'class'
GROUP BY t.label
ORDER BY type_label;

-- name: synapses whose pre cell class is an inter neuron per ontology
SELECT s.dataset_id, count(*) AS n
FROM synapse s
JOIN cell c ON c.dataset_id = s.dataset_id AND c.name = s.pre
WHERE 'class:' || c.class IN (SELECT id FROM ontology_term WHERE kind = 'class' AND parent_id = 'type:inter')
GROUP BY s.dataset_id
ORDER BY s.dataset_id;

-- name: self-join reciprocal connections
SELECT a.dataset_id, count(*) AS n_reciprocal_pairs
FROM (SELECT DISTINCT dataset_id, pre, post FROM synapse) a
JOIN (SELECT DISTINCT dataset_id, pre, post FROM synapse) b
  ON a.dataset_id = b.dataset_id AND a.pre = b.post AND a.post = b.pre
WHERE a.pre < a.post
GROUP BY a.dataset_id
ORDER BY a.dataset_id;

-- name: self-join same synapse with two partners
SELECT s1.dataset_id, count(*) AS n_pairs
FROM synapse s1
JOIN synapse s2 ON s1.dataset_id = s2.dataset_id AND s1.synapse_id = s2.synapse_id AND s1.post < s2.post
WHERE s1.pre = 'AIYL'
GROUP BY s1.dataset_id
ORDER BY s1.dataset_id;

-- name: self-join cells across datasets
SELECT c1.name, count(*) AS n_dataset_pairs
FROM cell c1
JOIN cell c2 ON c1.name = c2.name AND c1.dataset_id < c2.dataset_id
WHERE c1.class = 'AVA'
GROUP BY c1.name
ORDER BY c1.name;

-- ---------------------------------------------------------------------------
-- Subqueries and CTEs
-- ---------------------------------------------------------------------------

-- name: IN subquery on adult datasets
SELECT pre, count(*) AS n
FROM synapse
WHERE dataset_id IN (SELECT id FROM dataset WHERE stage = 'Adult') AND pre LIKE 'AI%'
GROUP BY pre
ORDER BY pre;

-- name: NOT IN subquery on cells without type
SELECT dataset_id, count(*) AS n
FROM synapse
WHERE post NOT IN (SELECT name FROM cell WHERE type IS NOT NULL)
GROUP BY dataset_id
ORDER BY dataset_id;

-- name: scalar subquery comparing to the average size
SELECT dataset_id, count(*) AS n_above_mean
FROM synapse
WHERE size > (SELECT avg(size) FROM synapse)
GROUP BY dataset_id
ORDER BY dataset_id;

-- name: correlated subquery per dataset average
SELECT s.dataset_id, count(*) AS n_above_dataset_mean
FROM synapse s
WHERE s.size > (SELECT avg(x.size) FROM synapse x WHERE x.dataset_id = s.dataset_id)
GROUP BY s.dataset_id
ORDER BY s.dataset_id;

-- name: EXISTS subquery cells with gap junctions
SELECT c.dataset_id, count(*) AS n_cells_with_gj
FROM cell c
WHERE EXISTS (SELECT 1 FROM gap_junction g
              WHERE g.dataset_id = c.dataset_id AND (g.cell_a = c.name OR g.cell_b = c.name))
GROUP BY c.dataset_id
ORDER BY c.dataset_id;

-- name: CTE edge counts and top edges
WITH edges AS (
  SELECT dataset_id, pre, post, count(*) AS n
  FROM synapse
  GROUP BY dataset_id, pre, post
)
SELECT dataset_id, pre, post, n
FROM edges
WHERE n >= 20
ORDER BY n DESC, dataset_id, pre, post
LIMIT 25;

-- name: two CTEs joined, synapses and gap junctions per dataset
WITH syn AS (
  SELECT dataset_id, count(*) AS n_syn FROM synapse GROUP BY dataset_id
), gj AS (
  SELECT dataset_id, count(*) AS n_gj FROM gap_junction GROUP BY dataset_id
)
SELECT d.id, d.stage, syn.n_syn, gj.n_gj
FROM dataset d
LEFT JOIN syn ON syn.dataset_id = d.id
LEFT JOIN gj ON gj.dataset_id = d.id
ORDER BY d.id;

-- name: derived table with aggregate over aggregate
SELECT stage, avg(n) AS mean_synapses_per_dataset, max(n) AS max_synapses
FROM (
  SELECT d.stage, s.dataset_id, count(*) AS n
  FROM synapse s JOIN dataset d ON d.id = s.dataset_id
  GROUP BY d.stage, s.dataset_id
) per_dataset
GROUP BY stage
ORDER BY stage;

-- ---------------------------------------------------------------------------
-- Set operations
-- ---------------------------------------------------------------------------

-- name: UNION ALL of synapse and gap junction counts
SELECT 'synapse' AS kind, dataset_id, count(*) AS n FROM synapse GROUP BY dataset_id
UNION ALL
SELECT 'gap_junction' AS kind, dataset_id, count(*) AS n FROM gap_junction GROUP BY dataset_id
ORDER BY kind, dataset_id;

-- name: UNION of cell names from both tables
SELECT pre AS name FROM synapse WHERE pre LIKE 'RM%'
UNION
SELECT cell_a AS name FROM gap_junction WHERE cell_a LIKE 'RM%'
ORDER BY name;

-- name: EXCEPT cells with chemical synapses but no gap junction
SELECT dataset_id, pre AS name FROM synapse WHERE dataset_id LIKE '/toronto/%'
EXCEPT
SELECT dataset_id, cell_a AS name FROM gap_junction
EXCEPT
SELECT dataset_id, cell_b AS name FROM gap_junction
ORDER BY dataset_id, name;

-- name: INTERSECT pre cells in L1 and Adult
SELECT s.pre FROM synapse s JOIN dataset d ON d.id = s.dataset_id WHERE d.stage = 'L1'
INTERSECT
SELECT s.pre FROM synapse s JOIN dataset d ON d.id = s.dataset_id WHERE d.stage = 'Adult'
ORDER BY pre;

-- ---------------------------------------------------------------------------
-- ORDER BY, LIMIT, OFFSET
-- ---------------------------------------------------------------------------

-- name: top pre cells by count with LIMIT
SELECT pre, count(*) AS n
FROM synapse
GROUP BY pre
ORDER BY n DESC, pre
LIMIT 10;

-- name: LIMIT and OFFSET over raw rows with total order
SELECT dataset_id, synapse_id, post, pre, sections, post_is_branch
FROM synapse
WHERE pre = 'RIAL'
ORDER BY dataset_id, synapse_id, post, pre, sections, post_is_branch
LIMIT 15 OFFSET 30;

-- name: largest synapses with tie-breakers
SELECT dataset_id, synapse_id, pre, post, size, post_is_branch
FROM synapse
WHERE size IS NOT NULL
ORDER BY size DESC, dataset_id, synapse_id, post, post_is_branch
LIMIT 20;

-- name: ORDER BY with NULLS and LIMIT on cells
SELECT dataset_id, name, volume_nm3
FROM cell
WHERE class = 'RIA'
ORDER BY volume_nm3 DESC NULLS LAST, dataset_id, name
LIMIT 10;

-- name: OFFSET past the end is empty
SELECT id FROM dataset ORDER BY id LIMIT 5 OFFSET 100;

-- ---------------------------------------------------------------------------
-- Window functions
-- ---------------------------------------------------------------------------

-- name: strongest partners of AVAL across development
-- (AVAL's output synapses lie outside the nerve ring, so partners are taken
-- in both directions: the other cell of any synapse AVAL is part of)
WITH partners AS (
  SELECT d.stage, d.age_hours, s.dataset_id,
         CASE WHEN s.pre = 'AVAL' THEN s.post ELSE s.pre END AS partner,
         count(*) AS n, sum(s.weight) AS w
  FROM synapse s
  JOIN dataset d ON d.id = s.dataset_id
  WHERE s.pre = 'AVAL' OR s.post = 'AVAL'
  GROUP BY d.stage, d.age_hours, s.dataset_id, CASE WHEN s.pre = 'AVAL' THEN s.post ELSE s.pre END
), ranked AS (
  SELECT *, row_number() OVER (PARTITION BY dataset_id ORDER BY n DESC, partner) AS rn
  FROM partners
)
SELECT dataset_id, stage, age_hours, partner, n, w, rn
FROM ranked
WHERE rn <= 3
ORDER BY age_hours, dataset_id, rn;

-- name: strongest inputs to AVAL per developmental stage
SELECT stage, pre, n, rnk
FROM (
  SELECT d.stage, s.pre, count(*) AS n,
         rank() OVER (PARTITION BY d.stage ORDER BY count(*) DESC) AS rnk
  FROM synapse s
  JOIN dataset d ON d.id = s.dataset_id
  WHERE s.post = 'AVAL'
  GROUP BY d.stage, s.pre
) t
WHERE rnk <= 3
ORDER BY stage, rnk, pre;

-- name: rank of pre cells within each dataset
SELECT dataset_id, pre, n, rnk
FROM (
  SELECT dataset_id, pre, count(*) AS n,
         rank() OVER (PARTITION BY dataset_id ORDER BY count(*) DESC) AS rnk
  FROM synapse
  GROUP BY dataset_id, pre
) t
WHERE rnk <= 5
ORDER BY dataset_id, rnk, pre;

-- name: running sum of synapse counts over age
SELECT d.id, d.age_hours, count(*) AS n,
       sum(count(*)) OVER (ORDER BY d.age_hours, d.id) AS running_n
FROM synapse s
JOIN dataset d ON d.id = s.dataset_id
GROUP BY d.id, d.age_hours
ORDER BY d.age_hours, d.id;

-- name: partition sum as share of dataset total
SELECT dataset_id, type, n, n * 1.0 / sum(n) OVER (PARTITION BY dataset_id) AS share
FROM (
  SELECT dataset_id, coalesce(type, 'unknown') AS type, count(*) AS n
  FROM cell
  GROUP BY dataset_id, coalesce(type, 'unknown')
) t
ORDER BY dataset_id, type;

-- name: lag of synapse count onto AVAL across development
SELECT id, age_hours, n, n - lag(n) OVER (ORDER BY age_hours, id) AS delta
FROM (
  SELECT d.id, d.age_hours, count(s.synapse_id) AS n
  FROM dataset d
  LEFT JOIN synapse s ON s.dataset_id = d.id AND s.post = 'AVAL'
  GROUP BY d.id, d.age_hours
) t
ORDER BY age_hours, id;

-- name: row_number over gap junctions per dataset
SELECT dataset_id, gap_junction_id, cell_a, cell_b, rn
FROM (
  SELECT dataset_id, gap_junction_id, cell_a, cell_b,
         row_number() OVER (PARTITION BY dataset_id ORDER BY gap_junction_id) AS rn
  FROM gap_junction
  WHERE cell_a LIKE 'AVA%'
) t
WHERE rn <= 2
ORDER BY dataset_id, rn;

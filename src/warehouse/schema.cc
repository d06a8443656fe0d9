#include "warehouse/schema.h"

namespace syndb::warehouse {

const std::vector<Migration>& migrations() {
  static const std::vector<Migration> kMigrations = {
      {1, "SynDB core tables: dataset, synapse, gap_junction, cell, ontology_term",
       R"sql(
CREATE TABLE dataset (
  id          VARCHAR PRIMARY KEY,   -- /<institution>/<collection>/<dataset>
  title       VARCHAR NOT NULL,
  institution VARCHAR NOT NULL,
  species     VARCHAR,
  stage       VARCHAR,               -- developmental stage, e.g. L1, Adult
  age_hours   DOUBLE,                -- hours after birth
  method      VARCHAR,               -- microscopy method
  doi         VARCHAR,
  license     VARCHAR,
  citation    VARCHAR,
  policy      VARCHAR NOT NULL DEFAULT 'public'
              CHECK (policy IN ('public', 'members', 'aggregate_only', 'private')),
  policy_k    INTEGER CHECK (policy_k IS NULL OR policy_k >= 1),
  CHECK (policy <> 'aggregate_only' OR policy_k IS NOT NULL)
);
CREATE TABLE synapse (
  dataset_id     VARCHAR NOT NULL,
  synapse_id     BIGINT NOT NULL,    -- CATMAID id of the presynaptic site
  pre            VARCHAR NOT NULL,
  post           VARCHAR NOT NULL,   -- one row per postsynaptic partner
  size           DOUBLE,             -- synapse size (authors' measure)
  weight         DOUBLE,             -- this partner's share of the contact, 0..1
  sections       INTEGER,            -- EM sections the synapse spans
  post_is_branch BOOLEAN
);
CREATE TABLE gap_junction (
  dataset_id      VARCHAR NOT NULL,
  gap_junction_id BIGINT NOT NULL,
  cell_a          VARCHAR NOT NULL,
  cell_b          VARCHAR NOT NULL
);
CREATE TABLE cell (
  dataset_id VARCHAR NOT NULL,
  name       VARCHAR NOT NULL,
  class      VARCHAR,
  type       VARCHAR,                -- sensory, inter, motor, modulatory, …
  volume_nm3 DOUBLE
);
CREATE TABLE ontology_term (
  id        VARCHAR PRIMARY KEY,     -- e.g. class:AVA, type:inter
  label     VARCHAR NOT NULL,
  parent_id VARCHAR,
  kind      VARCHAR NOT NULL         -- type | class | cell
);
)sql"},
      {2, "dataset_stats view: row counts per dataset",
       R"sql(
CREATE VIEW dataset_stats AS
SELECT d.id AS dataset_id,
       (SELECT count(*) FROM synapse s WHERE s.dataset_id = d.id) AS synapses,
       (SELECT count(*) FROM gap_junction g WHERE g.dataset_id = d.id) AS gap_junctions,
       (SELECT count(*) FROM cell c WHERE c.dataset_id = d.id) AS cells
FROM dataset d;
)sql"},
      {3, "node_info: the node's namespace prefix and other settings",
       R"sql(
CREATE TABLE node_info (
  key   VARCHAR PRIMARY KEY,
  value VARCHAR NOT NULL
);
)sql"},
  };
  return kMigrations;
}

int latest_schema_version() { return migrations().back().version; }

const std::vector<DataTable>& data_tables() {
  static const std::vector<DataTable> kTables = {
      {"dataset", "id"}, {"synapse", "dataset_id"}, {"gap_junction", "dataset_id"},
      {"cell", "dataset_id"}, {"ontology_term", nullptr},
  };
  return kTables;
}

const DataTable* find_data_table(const std::string& name) {
  for (const auto& t : data_tables()) {
    if (name == t.name) return &t;
  }
  return nullptr;
}

}  // namespace syndb::warehouse

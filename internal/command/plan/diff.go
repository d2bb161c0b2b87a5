package plan

import "github.com/env2vault/env2vault/migrate"

// defaultDiff is the live diff: migrate.Diff.
var defaultDiff = migrate.Diff

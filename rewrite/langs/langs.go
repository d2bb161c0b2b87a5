// Package langs lists every code rewriter env2vault has, for callers of
// rewrite.Prepare (the rewrite command, the wizard, batch mode).
package langs

import (
	"github.com/env2vault/env2vault/rewrite"
	"github.com/env2vault/env2vault/rewrite/golang"
	"github.com/env2vault/env2vault/rewrite/javascript"
	"github.com/env2vault/env2vault/rewrite/python"
)

// All returns a fresh instance of every code rewriter, in the order
// Prepare tries them on a file.
func All() []rewrite.Language {
	return []rewrite.Language{golang.New(), python.New(), javascript.New()}
}

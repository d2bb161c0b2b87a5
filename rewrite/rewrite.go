// Package rewrite changes a repository so that planned secrets are read
// from the backend instead of the environment or source literals: code
// call sites (one subpackage per language), .env files, config files,
// ignore rules and the pre-commit secret scan. Every change is shown as a
// unified diff (values redacted) before it is applied, atomically.
package rewrite

import (
	"github.com/env2vault/env2vault/plan"
	"github.com/env2vault/env2vault/secret"
)

// References left in .env files use plan.Reference / plan.ParseReference
// (plan/reference.go), which `env2vault run` resolves; do not define a
// second scheme here.

// Edit says what to change in one source file.
type Edit struct {
	// Keys are the environment variable names whose reads become lookups
	// through the generated helper. Reads of other names (PORT, DEBUG,
	// LOG_LEVEL, ...) are left exactly as they are.
	Keys map[string]bool
	// Literals are hardcoded values to replace by lookups.
	Literals []Literal
}

// Literal is one hardcoded value on a 1-based line, and the environment
// variable name its lookup uses.
type Literal struct {
	Line   int
	Value  secret.Value
	EnvVar string
}

// Binding maps an environment variable name, in one environment, to where
// its secret lives. Generated helpers embed bindings (never values) and
// pick the environment at run time from ENV2VAULT_ENV.
type Binding struct {
	EnvVar      string
	Environment string
	SecretName  string
	Target      plan.Target
}

// File is a file to write, relative to the repo root.
type File struct {
	Path    string
	Content []byte
}

// Language rewrites one language's source files.
type Language interface {
	// Name is "go", "python" or "javascript" (JavaScript and TypeScript).
	Name() string
	// Match reports whether the language handles path (slash-separated,
	// relative to the repo).
	Match(path string) bool
	// Rewrite returns src with e applied and how many sites changed.
	Rewrite(path string, src []byte, e Edit) (out []byte, changed int, err error)
	// Helper returns the generated lookup module for a repo (and any
	// dependency manifest edits, as whole new file contents given the
	// repo's current files through read).
	Helper(b plan.Backend, bindings []Binding, read func(path string) ([]byte, error)) ([]File, error)
}

// Repo is what a RepoAware language learns about a repository before it
// rewrites files there.
type Repo struct {
	// Dir is the repo's folder on disk.
	Dir string
	// Read returns a file's current content (path relative to the repo,
	// slash-separated), including edits already planned in this run.
	Read func(path string) ([]byte, error)
}

// RepoAware is implemented by languages that need repo context (Go needs
// the module path to import its helper). Prepare calls ForRepo once per
// repo and uses the returned Language for that repo's files.
type RepoAware interface {
	ForRepo(r Repo) (Language, error)
}

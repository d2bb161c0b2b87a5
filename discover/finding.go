// Package discover walks repositories and reports where secrets live:
// .env files, hardcoded keys, code that reads environment variables, and
// secret values that ever entered git history.
//
// The JSON form of Result is a stable, documented schema (see README.md,
// "Scan JSON schema"); plan --from-scan reads it back.
package discover

import (
	"github.com/env2vault/env2vault/secret"
)

// SchemaVersion is the version of the scan JSON schema.
const SchemaVersion = 1

// Kind says what a finding is.
type Kind string

// Finding kinds.
const (
	KindEnvFile   Kind = "env-file"  // an entry in a .env file
	KindHardcoded Kind = "hardcoded" // a key written into source, config or CI files
	KindEnvRead   Kind = "env-read"  // code that reads an environment variable
)

// Classification says whether an .env entry holds a secret.
type Classification string

// Classifications of .env entries (and of hardcoded findings, always secret).
const (
	ClassSecret      Classification = "secret"
	ClassConfig      Classification = "config"
	ClassPlaceholder Classification = "placeholder"
)

// Context says where a hardcoded finding sits, which matters for how it
// is rotated and rewritten.
type Context string

// Contexts of hardcoded findings.
const (
	ContextSource     Context = "source"     // application source code
	ContextFrontend   Context = "frontend"   // code shipped to browsers
	ContextCompose    Context = "compose"    // docker-compose environment block
	ContextCI         Context = "ci"         // CI workflow file
	ContextDockerfile Context = "dockerfile" // Dockerfile ARG/ENV
	ContextKubernetes Context = "kubernetes" // Kubernetes Secret manifest
	ContextConfig     Context = "config"     // other configuration file
)

// Finding is one located observation. It never carries a printable value:
// Value is excluded from every encoding and redacts itself anyway.
type Finding struct {
	Kind Kind `json:"kind"`
	// Root is the scan root this finding's repo lives under, as given on
	// the command line (or the repo's parent when the root is a repo).
	Root string `json:"root"`
	// Repo is the repo folder relative to Root, slash-separated.
	Repo string `json:"repo"`
	// Path is the file relative to the repo, slash-separated.
	Path string `json:"path"`
	// Line is 1-based; Column is 1-based and optional.
	Line   int `json:"line"`
	Column int `json:"column,omitempty"`
	// Key is the environment variable name, where there is one.
	Key string `json:"key,omitempty"`
	// Rule is the detection rule (a gitleaks rule id, "entropy", or an
	// env2vault rule such as "url-password").
	Rule string `json:"rule,omitempty"`
	// Service is the provider the value belongs to (stripe, anthropic,
	// aws, github, ...), empty when unknown.
	Service string `json:"service,omitempty"`
	// Classification is set for env-file and hardcoded findings.
	Classification Classification `json:"classification,omitempty"`
	// Reason explains the classification in a few words.
	Reason string `json:"reason,omitempty"`
	// Context is set for hardcoded findings.
	Context Context `json:"context,omitempty"`
	// Language is set for env-read findings (go, python, javascript, typescript).
	Language string `json:"language,omitempty"`
	// Hint is at most a known provider prefix ("sk_live_…"), never random characters.
	Hint string `json:"hint,omitempty"`
	// Fingerprint is the keyed hash of the value (secret.Fingerprinter).
	Fingerprint string `json:"fingerprint,omitempty"`
	// InHistory reports that the value appears somewhere in the repo's git history.
	InHistory bool `json:"in_history"`
	// Tracked reports that the file is tracked by git now.
	Tracked bool `json:"tracked"`
	// Value is the secret itself; it stays in memory only.
	Value secret.Value `json:"-" yaml:"-"`
}

// IsSecret reports whether the finding carries a secret value that should
// be migrated (a secret env-file entry or a hardcoded key).
func (f Finding) IsSecret() bool {
	return (f.Kind == KindEnvFile || f.Kind == KindHardcoded) && f.Classification == ClassSecret
}

// Repo describes one repository found under a scan root.
type Repo struct {
	Root string `json:"root"`
	Name string `json:"name"`
	// Git reports whether the folder is a git work tree.
	Git bool `json:"git"`
	// CommittedEnvFiles lists .env* paths that were ever committed to the
	// repo's history, including ones deleted since.
	CommittedEnvFiles []string `json:"committed_env_files,omitempty"`
}

// KeyLink is an environment variable defined in an .env file but never
// read by code, or read by code but never defined.
type KeyLink struct {
	Repo string `json:"repo"`
	Key  string `json:"key"`
	// Paths are where it is defined (for unused) or read (for undefined).
	Paths []string `json:"paths"`
}

// Skip is a path the scan did not read, with why.
type Skip struct {
	Path   string `json:"path"`
	Reason string `json:"reason"` // binary, too-large, unreadable, symlink-loop, ignored
	Detail string `json:"detail,omitempty"`
}

// Stats counts what a scan did.
type Stats struct {
	Repos        int   `json:"repos"`
	FilesScanned int   `json:"files_scanned"`
	BytesScanned int64 `json:"bytes_scanned"`
	Skipped      int   `json:"skipped"`
	Secrets      int   `json:"secrets"`
	// Ignored counts findings dropped by .env2vaultignore or .gitleaksignore.
	Ignored int `json:"ignored"`
}

// Result is everything one scan found. Its JSON encoding is the scan
// schema.
type Result struct {
	SchemaVersion int       `json:"schema_version"`
	Roots         []string  `json:"roots"`
	Repos         []Repo    `json:"repos"`
	Findings      []Finding `json:"findings"`
	Unused        []KeyLink `json:"defined_not_read,omitempty"`
	Undefined     []KeyLink `json:"read_not_defined,omitempty"`
	Skipped       []Skip    `json:"skipped,omitempty"`
	Stats         Stats     `json:"stats"`
}

// HasSecrets reports whether any finding is a secret.
func (r *Result) HasSecrets() bool {
	for _, f := range r.Findings {
		if f.IsSecret() {
			return true
		}
	}
	return false
}

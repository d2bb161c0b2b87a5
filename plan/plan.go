// Package plan turns scan findings into a phased migration plan: an
// inventory of secrets (one per distinct value per environment), their
// names and vault targets, rotation calls, and per-phase rollout
// checklists. A plan holds no secret values — only locations,
// fingerprints and metadata — so it can be reviewed in a pull request.
package plan

// SchemaVersion is the version of the plan file format.
const SchemaVersion = 1

// Backend kinds.
const (
	BackendVault = "vault"
	BackendGCP   = "gcp"
	BackendAWS   = "aws"
)

// Actions a live diff assigns to a secret, like terraform plan.
const (
	ActionCreate   = "create"
	ActionUpdate   = "update"
	ActionNoop     = "no-op"
	ActionConflict = "conflict"
)

// Source kinds.
const (
	SourceEnvFile   = "env-file"
	SourceHardcoded = "hardcoded"
)

// Plan is the migration plan file.
type Plan struct {
	SchemaVersion int `yaml:"schema_version" json:"schema_version"`
	// ID is a deterministic digest of the plan's content (not of values).
	ID string `yaml:"id" json:"id"`
	// Roots are the scan roots, as given on the command line.
	Roots   []string `yaml:"roots" json:"roots"`
	Backend Backend  `yaml:"backend" json:"backend"`
	// DiffStatus says whether actions came from a live diff against the
	// backend ("live") or everything was planned as create ("offline: why").
	DiffStatus string   `yaml:"diff_status" json:"diff_status"`
	Secrets    []Secret `yaml:"secrets" json:"secrets"`
	// Reads are env-read call sites of planned keys, which rewrite changes.
	Reads  []Read  `yaml:"reads,omitempty" json:"reads,omitempty"`
	Phases []Phase `yaml:"phases" json:"phases"`
	// Repos lists every repo in the plan with what applies to it.
	Repos []RepoInfo `yaml:"repos" json:"repos"`
}

// Backend names where secrets go and its settings. Credentials are never
// part of a plan.
type Backend struct {
	Kind string `yaml:"kind" json:"kind"`
	// Vault settings (kind vault).
	Mount     string `yaml:"mount,omitempty" json:"mount,omitempty"`
	KVVersion int    `yaml:"kv_version,omitempty" json:"kv_version,omitempty"`
	// GCP settings (kind gcp).
	Project string `yaml:"project,omitempty" json:"project,omitempty"`
	// AWS settings (kind aws).
	Region string `yaml:"region,omitempty" json:"region,omitempty"`
}

// Secret is one inventory row: one distinct value in one environment.
type Secret struct {
	Name        string `yaml:"name" json:"name"`
	Service     string `yaml:"service" json:"service"`
	Purpose     string `yaml:"purpose" json:"purpose"`
	Environment string `yaml:"environment" json:"environment"`
	// EnvVar is the environment variable name code uses for it (the .env
	// key, or one derived from the name for hardcoded keys).
	EnvVar      string `yaml:"env_var" json:"env_var"`
	Owner       string `yaml:"owner" json:"owner"`
	LastRotated string `yaml:"last_rotated" json:"last_rotated"`
	// Fingerprint is the keyed hash of the value (secret.Fingerprinter).
	Fingerprint string     `yaml:"fingerprint" json:"fingerprint"`
	Consumers   []Consumer `yaml:"consumers" json:"consumers"`
	Sources     []Source   `yaml:"sources" json:"sources"`
	Rotate      bool       `yaml:"rotate" json:"rotate"`
	Reasons     []string   `yaml:"reasons,omitempty" json:"reasons,omitempty"`
	Target      Target     `yaml:"target" json:"target"`
	Action      string     `yaml:"action" json:"action"`
}

// Source is one place the value is defined.
type Source struct {
	Root string `yaml:"root" json:"root"`
	Repo string `yaml:"repo" json:"repo"`
	Path string `yaml:"path" json:"path"`
	Line int    `yaml:"line" json:"line"`
	Key  string `yaml:"key,omitempty" json:"key,omitempty"`
	Rule string `yaml:"rule,omitempty" json:"rule,omitempty"`
	// Kind is env-file or hardcoded.
	Kind string `yaml:"kind" json:"kind"`
	// Context is the hardcoded finding's context (source, frontend, ci, ...).
	Context   string `yaml:"context,omitempty" json:"context,omitempty"`
	InHistory bool   `yaml:"in_history" json:"in_history"`
	Tracked   bool   `yaml:"tracked" json:"tracked"`
}

// Consumer is a repo and file that reads or defines the secret.
type Consumer struct {
	Repo string `yaml:"repo" json:"repo"`
	Path string `yaml:"path" json:"path"`
	// Uses is "reads" or "defines".
	Uses string `yaml:"uses" json:"uses"`
}

// Read is a code site that reads a planned environment variable.
type Read struct {
	Root     string `yaml:"root" json:"root"`
	Repo     string `yaml:"repo" json:"repo"`
	Path     string `yaml:"path" json:"path"`
	Line     int    `yaml:"line" json:"line"`
	Key      string `yaml:"key" json:"key"`
	Language string `yaml:"language" json:"language"`
}

// Target is where a secret goes in the backend. Vault uses Mount, Path
// and Field (Path relative to the mount, as `vault kv get -mount=MOUNT
// PATH` takes it); GCP uses Project and SecretID; AWS uses Region and Name.
type Target struct {
	Mount    string `yaml:"mount,omitempty" json:"mount,omitempty"`
	Path     string `yaml:"path,omitempty" json:"path,omitempty"`
	Field    string `yaml:"field,omitempty" json:"field,omitempty"`
	Project  string `yaml:"project,omitempty" json:"project,omitempty"`
	SecretID string `yaml:"secret_id,omitempty" json:"secret_id,omitempty"`
	Region   string `yaml:"region,omitempty" json:"region,omitempty"`
	Name     string `yaml:"name,omitempty" json:"name,omitempty"`
}

// RepoInfo is per-repo context the checklists and rewrite use.
type RepoInfo struct {
	Root string `yaml:"root" json:"root"`
	Name string `yaml:"name" json:"name"`
	Git  bool   `yaml:"git" json:"git"`
	// CommittedEnvFiles are .env* files ever committed to history.
	CommittedEnvFiles []string `yaml:"committed_env_files,omitempty" json:"committed_env_files,omitempty"`
}

// Phase is one of the four migration phases with its checklist.
type Phase struct {
	// Name is Inventory, Planning, Implementation or Rollout.
	Name  string `yaml:"name" json:"name"`
	Items []Item `yaml:"items" json:"items"`
}

// Item is one checklist task.
type Item struct {
	ID   string `yaml:"id" json:"id"`
	Text string `yaml:"text" json:"text"`
	// Secret names the secret the item is about, if any.
	Secret string `yaml:"secret,omitempty" json:"secret,omitempty"`
	// Repo names the repo the item is about, if any.
	Repo string `yaml:"repo,omitempty" json:"repo,omitempty"`
	// BestPractice marks general guidance that applies, as opposed to an
	// item generated from a finding.
	BestPractice bool `yaml:"best_practice,omitempty" json:"best_practice,omitempty"`
}

package plan

import (
	"bytes"
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"
)

// DefaultFile is the plan file name used when none is given.
const DefaultFile = "env2vault-plan.yaml"

// Refresh recomputes what is derived from a plan's content: the
// deterministic order of every list, the phases' checklists and the ID.
// Build calls it; call it again after changing a plan (e.g. after a live
// diff set actions).
func (p *Plan) Refresh() {
	p.sort()
	p.Phases = buildPhases(p)
	p.ID = p.digest()
}

func (p *Plan) sort() {
	for i := range p.Secrets {
		s := &p.Secrets[i]
		slices.SortFunc(s.Sources, func(x, y Source) int {
			return cmp.Or(
				cmp.Compare(boolRank(x.Kind != SourceEnvFile), boolRank(y.Kind != SourceEnvFile)),
				cmp.Compare(x.Repo, y.Repo), cmp.Compare(x.Path, y.Path), cmp.Compare(x.Line, y.Line),
				cmp.Compare(x.Key, y.Key), cmp.Compare(x.Root, y.Root))
		})
		slices.SortFunc(s.Consumers, func(x, y Consumer) int {
			return cmp.Or(cmp.Compare(x.Repo, y.Repo), cmp.Compare(x.Path, y.Path), cmp.Compare(x.Uses, y.Uses))
		})
		s.Consumers = slices.Compact(s.Consumers)
		if s.Sources == nil {
			s.Sources = []Source{}
		}
		if s.Consumers == nil {
			s.Consumers = []Consumer{}
		}
	}
	slices.SortFunc(p.Secrets, func(x, y Secret) int { return cmp.Compare(x.Name, y.Name) })
	slices.SortFunc(p.Reads, func(x, y Read) int {
		return cmp.Or(cmp.Compare(x.Repo, y.Repo), cmp.Compare(x.Path, y.Path), cmp.Compare(x.Line, y.Line),
			cmp.Compare(x.Key, y.Key), cmp.Compare(x.Root, y.Root))
	})
	slices.SortFunc(p.Repos, func(x, y RepoInfo) int {
		return cmp.Or(cmp.Compare(x.Name, y.Name), cmp.Compare(x.Root, y.Root))
	})
}

// digest is the plan ID: a SHA-256 over what is planned. It leaves out
// where the scan ran (roots) and what the backend holds now (diff status,
// actions, and the phases derived from them), so the same inventory
// planned on two machines, or before and after a migration, has one ID.
func (p *Plan) digest() string {
	c := *p
	c.ID, c.Roots, c.DiffStatus, c.Phases = "", nil, "", nil
	c.Secrets = slices.Clone(p.Secrets)
	for i := range c.Secrets {
		s := &c.Secrets[i]
		s.Action = ""
		s.Sources = slices.Clone(s.Sources)
		for j := range s.Sources {
			s.Sources[j].Root = ""
		}
	}
	c.Reads = slices.Clone(p.Reads)
	for i := range c.Reads {
		c.Reads[i].Root = ""
	}
	c.Repos = slices.Clone(p.Repos)
	for i := range c.Repos {
		c.Repos[i].Root = ""
	}
	b, _ := json.Marshal(c) // plain structs of strings: cannot fail
	sum := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(sum[:16])
}

// Marshal returns the plan as YAML, the plan file format.
func Marshal(p *Plan) ([]byte, error) {
	var b bytes.Buffer
	b.WriteString("# env2vault migration plan. It holds no secret values: only locations,\n# fingerprints and metadata. Review it, then: env2vault migrate --plan FILE\n")
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(p); err != nil {
		return nil, fmt.Errorf("encoding the plan: %w", err)
	}
	if err := enc.Close(); err != nil {
		return nil, fmt.Errorf("encoding the plan: %w", err)
	}
	return b.Bytes(), nil
}

// Save writes p to path as YAML, atomically: a temp file in the same
// folder, synced, then renamed over path (mode 0644).
func Save(path string, p *Plan) error {
	data, err := Marshal(p)
	if err != nil {
		return err
	}
	return writeFileAtomic(path, data, 0o644)
}

func writeFileAtomic(path string, data []byte, mode os.FileMode) (err error) {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	if _, err = f.Write(data); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err = f.Chmod(mode); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err = f.Sync(); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err = f.Close(); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err = os.Rename(f.Name(), path); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return nil
}

// Load reads and validates the plan file at path.
func Load(path string) (*Plan, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("reading the plan: %w", err)
	}
	defer f.Close()
	p, err := Decode(f)
	if err != nil {
		return nil, fmt.Errorf("plan %s: %w", path, err)
	}
	return p, nil
}

// Decode reads a plan (YAML, or JSON, which is YAML too) from r and
// validates it. Unknown fields are errors, so a typo does not silently
// drop a setting.
func Decode(r io.Reader) (*Plan, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, err
	}
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, errors.New("the file is empty")
	}
	// Check the schema version first: a newer plan's unknown fields
	// should be reported as a version problem.
	var head struct {
		SchemaVersion any `yaml:"schema_version"`
	}
	if err := yaml.Unmarshal(data, &head); err != nil {
		return nil, fmt.Errorf("not a valid plan file (YAML): %w", trimYAMLErr(err))
	}
	switch v := head.SchemaVersion.(type) {
	case nil:
		return nil, &FieldError{Field: "schema_version", Msg: "missing: is this an env2vault plan file?"}
	case int:
		if v != SchemaVersion {
			return nil, &FieldError{Field: "schema_version", Msg: fmt.Sprintf("is %d, but this env2vault reads version %d plans: re-run env2vault plan", v, SchemaVersion)}
		}
	default:
		return nil, &FieldError{Field: "schema_version", Msg: fmt.Sprintf("must be a number, not %v", v)}
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	var p Plan
	if err := dec.Decode(&p); err != nil {
		return nil, fmt.Errorf("not a valid plan file: %w", trimYAMLErr(err))
	}
	if err := Validate(&p); err != nil {
		return nil, err
	}
	return &p, nil
}

func trimYAMLErr(err error) error {
	return errors.New(strings.TrimPrefix(err.Error(), "yaml: "))
}

// FieldError is a validation problem with one field of a plan.
type FieldError struct {
	// Field is the path to the field, e.g. "secrets[3].target.path".
	Field string
	Msg   string
}

func (e *FieldError) Error() string { return e.Field + ": " + e.Msg }

// validGCPID matches a Google Secret Manager secret id.
var validGCPID = regexp.MustCompile(`^[A-Za-z0-9_-]{1,255}$`)

var knownActions = []string{ActionCreate, ActionUpdate, ActionNoop, ActionConflict}

// Validate checks a plan: schema version, required fields, unique names
// and targets, a known backend with its settings, known actions and
// source kinds. It returns every problem found, each a *FieldError.
func Validate(p *Plan) error {
	var errs []error
	bad := func(field, format string, args ...any) {
		errs = append(errs, &FieldError{Field: field, Msg: fmt.Sprintf(format, args...)})
	}
	if p.SchemaVersion != SchemaVersion {
		bad("schema_version", "is %d, but this env2vault reads version %d plans", p.SchemaVersion, SchemaVersion)
	}
	switch p.Backend.Kind {
	case BackendVault:
		if p.Backend.Mount == "" {
			bad("backend.mount", "required for the vault backend")
		}
		if p.Backend.KVVersion != 1 && p.Backend.KVVersion != 2 {
			bad("backend.kv_version", "must be 1 or 2, not %d", p.Backend.KVVersion)
		}
	case BackendGCP:
		if p.Backend.Project == "" {
			bad("backend.project", "required for the gcp backend")
		}
	case BackendAWS:
		if p.Backend.Region == "" {
			bad("backend.region", "required for the aws backend")
		}
	case "":
		bad("backend.kind", "required (vault, gcp or aws)")
	default:
		bad("backend.kind", "unknown backend %q (want vault, gcp or aws)", p.Backend.Kind)
	}
	names := map[string]int{}
	targets := map[string]int{}
	for i, s := range p.Secrets {
		f := fmt.Sprintf("secrets[%d]", i)
		if s.Name == "" {
			bad(f+".name", "required")
		} else {
			f = fmt.Sprintf("secrets[%d] (%s)", i, s.Name)
			if !validName.MatchString(s.Name) {
				bad(f+".name", "%q is not a valid name (letters, digits, '-', '_' and '.')", s.Name)
			}
			if j, dup := names[s.Name]; dup {
				bad(f+".name", "%q is already the name of secrets[%d]", s.Name, j)
			}
			names[s.Name] = i
		}
		if s.Environment == "" {
			bad(f+".environment", "required")
		}
		if !strings.HasPrefix(s.Fingerprint, "hmac-sha256:") {
			bad(f+".fingerprint", "required, an hmac-sha256: fingerprint from env2vault scan")
		}
		if !slices.Contains(knownActions, s.Action) {
			bad(f+".action", "unknown action %q (want create, update, no-op or conflict)", s.Action)
		}
		if len(s.Sources) == 0 {
			bad(f+".sources", "required: at least one place the value is defined")
		}
		for j, src := range s.Sources {
			sf := fmt.Sprintf("%s.sources[%d]", f, j)
			if src.Repo == "" {
				bad(sf+".repo", "required")
			}
			if src.Path == "" {
				bad(sf+".path", "required")
			}
			if src.Line < 0 {
				bad(sf+".line", "must be 1 or more (0 when unknown)")
			}
			if src.Kind != SourceEnvFile && src.Kind != SourceHardcoded {
				bad(sf+".kind", "unknown source kind %q (want env-file or hardcoded)", src.Kind)
			}
		}
		var tgt string
		switch p.Backend.Kind {
		case BackendVault:
			if s.Target.Mount == "" {
				bad(f+".target.mount", "required for the vault backend")
			}
			if s.Target.Path == "" {
				bad(f+".target.path", "required for the vault backend")
			}
			tgt = s.Target.Mount + "/" + s.Target.Path + "#" + s.Target.Field
		case BackendGCP:
			if s.Target.Project == "" {
				bad(f+".target.project", "required for the gcp backend")
			}
			if s.Target.SecretID == "" {
				bad(f+".target.secret_id", "required for the gcp backend")
			} else if !validGCPID.MatchString(s.Target.SecretID) {
				bad(f+".target.secret_id", "%q is not a valid Secret Manager id (letters, digits, '-' and '_', at most 255)", s.Target.SecretID)
			}
			tgt = s.Target.Project + "/" + s.Target.SecretID
		case BackendAWS:
			if s.Target.Region == "" {
				bad(f+".target.region", "required for the aws backend")
			}
			if s.Target.Name == "" {
				bad(f+".target.name", "required for the aws backend")
			}
			tgt = s.Target.Region + "/" + s.Target.Name
		}
		if tgt != "" {
			if j, dup := targets[tgt]; dup {
				bad(f+".target", "the same target as secrets[%d]: two secrets would overwrite each other", j)
			}
			targets[tgt] = i
		}
	}
	for i, r := range p.Repos {
		if r.Name == "" {
			bad(fmt.Sprintf("repos[%d].name", i), "required")
		}
	}
	phaseNames := map[string]bool{}
	ids := map[string]bool{}
	for i, ph := range p.Phases {
		f := fmt.Sprintf("phases[%d]", i)
		if !slices.Contains(PhaseNames, ph.Name) {
			bad(f+".name", "unknown phase %q (want %s)", ph.Name, strings.Join(PhaseNames, ", "))
		}
		if phaseNames[ph.Name] {
			bad(f+".name", "phase %q appears twice", ph.Name)
		}
		phaseNames[ph.Name] = true
		for j, it := range ph.Items {
			if it.ID == "" {
				bad(fmt.Sprintf("%s.items[%d].id", f, j), "required")
			} else if ids[it.ID] {
				bad(fmt.Sprintf("%s.items[%d].id", f, j), "%q is used twice", it.ID)
			}
			ids[it.ID] = true
			if it.Text == "" {
				bad(fmt.Sprintf("%s.items[%d].text", f, j), "required")
			}
		}
	}
	return errors.Join(errs...)
}

package plan

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"

	"github.com/env2vault/env2vault/discover"
)

// ReadScan reads a scan result in the scan JSON schema (env2vault scan
// --format json) and checks its schema version. Findings read this way
// carry fingerprints, never values.
func ReadScan(r io.Reader) (*discover.Result, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, err
	}
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, errors.New("the file is empty")
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	var res discover.Result
	if err := dec.Decode(&res); err != nil {
		var se *json.SyntaxError
		if errors.As(err, &se) {
			line := bytes.Count(data[:min(int(se.Offset), len(data))], []byte("\n")) + 1
			return nil, fmt.Errorf("not scan JSON: line %d: %w", line, err)
		}
		return nil, fmt.Errorf("not scan JSON: %w", err)
	}
	switch {
	case res.SchemaVersion == 0:
		return nil, errors.New("schema_version: missing: is this the output of env2vault scan --format json?")
	case res.SchemaVersion != discover.SchemaVersion:
		return nil, fmt.Errorf("schema_version: is %d, but this env2vault reads version %d scans", res.SchemaVersion, discover.SchemaVersion)
	}
	for i, f := range res.Findings {
		if f.Repo == "" || f.Path == "" {
			return nil, fmt.Errorf("findings[%d]: repo and path are required", i)
		}
		if f.IsSecret() && f.Fingerprint == "" {
			return nil, fmt.Errorf("findings[%d] (%s/%s:%d): a secret finding needs a fingerprint", i, f.Repo, f.Path, f.Line)
		}
	}
	return &res, nil
}

// LoadScans reads scan JSON files and merges them (MergeScans).
func LoadScans(paths ...string) (*discover.Result, error) {
	if len(paths) == 0 {
		return nil, errors.New("no scan files given")
	}
	var rs []*discover.Result
	for _, p := range paths {
		f, err := os.Open(p)
		if err != nil {
			return nil, fmt.Errorf("reading the scan: %w", err)
		}
		r, err := ReadScan(f)
		f.Close()
		if err != nil {
			return nil, fmt.Errorf("scan %s: %w", p, err)
		}
		rs = append(rs, r)
	}
	return MergeScans(rs...), nil
}

// MergeScans merges scan results made separately (on several machines,
// or of several roots) into one: roots and repos in first-seen order
// without repeats, findings without exact duplicates. Fingerprints only
// match across scans made with the same ENV2VAULT_FINGERPRINT_KEY.
func MergeScans(rs ...*discover.Result) *discover.Result {
	out := &discover.Result{SchemaVersion: discover.SchemaVersion}
	type repoKey struct{ root, name string }
	repos := map[repoKey]int{}
	type findingKey struct {
		kind                   discover.Kind
		root, repo, path, key  string
		line, col              int
		rule, fingerprint, ctx string
	}
	findings := map[findingKey]bool{}
	for _, r := range rs {
		if r == nil {
			continue
		}
		for _, root := range r.Roots {
			if !slices.Contains(out.Roots, root) {
				out.Roots = append(out.Roots, root)
			}
		}
		for _, rp := range r.Repos {
			k := repoKey{rp.Root, rp.Name}
			if i, ok := repos[k]; ok {
				cur := &out.Repos[i]
				cur.Git = cur.Git || rp.Git
				for _, f := range rp.CommittedEnvFiles {
					if !slices.Contains(cur.CommittedEnvFiles, f) {
						cur.CommittedEnvFiles = append(cur.CommittedEnvFiles, f)
					}
				}
				continue
			}
			repos[k] = len(out.Repos)
			rp.CommittedEnvFiles = slices.Clone(rp.CommittedEnvFiles)
			out.Repos = append(out.Repos, rp)
		}
		for _, f := range r.Findings {
			k := findingKey{f.Kind, f.Root, f.Repo, f.Path, f.Key, f.Line, f.Column, f.Rule, f.Fingerprint, string(f.Context)}
			if findings[k] {
				continue
			}
			findings[k] = true
			out.Findings = append(out.Findings, f)
		}
		out.Unused = append(out.Unused, r.Unused...)
		out.Undefined = append(out.Undefined, r.Undefined...)
		out.Skipped = append(out.Skipped, r.Skipped...)
		out.Stats.FilesScanned += r.Stats.FilesScanned
		out.Stats.BytesScanned += r.Stats.BytesScanned
		out.Stats.Skipped += r.Stats.Skipped
	}
	out.Stats.Repos = len(out.Repos)
	for _, f := range out.Findings {
		if f.IsSecret() {
			out.Stats.Secrets++
		}
	}
	return out
}

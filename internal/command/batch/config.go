package batch

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/env2vault/env2vault/plan"
)

// DefaultConfigFile is read from the working folder when --config is not
// given and the file exists.
const DefaultConfigFile = "env2vault.yaml"

// Config is a batch run's settings. Its keys mirror the flags, so a run
// is reproducible from the file alone; a flag given on the command line
// wins over the file.
type Config struct {
	Backend    string `yaml:"backend"`
	VaultMount string `yaml:"vault_mount"`
	KVVersion  int    `yaml:"kv_version"`
	GCPProject string `yaml:"gcp_project"`
	AWSRegion  string `yaml:"aws_region"`
	// EnvMap maps .env file names or globs to environments
	// (".env.staging-eu: staging"), as plan --env-map does.
	EnvMap map[string]string `yaml:"env_map"`
	// Concurrency bounds parallel scanning and backend writes (0: default).
	Concurrency int `yaml:"concurrency"`
	// Languages limits code rewriting ("go", "python", "javascript").
	Languages []string `yaml:"languages"`
	// Out is the folder that receives the plan, reports and checklists.
	Out string `yaml:"out"`
}

// defaults are the settings when neither the file nor a flag gives one.
func defaults() Config {
	return Config{Backend: plan.BackendVault, VaultMount: "secret", KVVersion: 2, Out: "env2vault-out"}
}

// loadConfig reads the config file at path. With path empty it reads
// DefaultConfigFile when present and returns a zero Config otherwise.
// Unknown keys are errors, so a typo never silently changes a run.
func loadConfig(path string) (Config, string, error) {
	explicit := path != ""
	if !explicit {
		path = DefaultConfigFile
	}
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) && !explicit {
		return Config{}, "", nil
	}
	if err != nil {
		return Config{}, "", fmt.Errorf("reading the config file: %w", err)
	}
	c, err := decodeConfig(data)
	if err != nil {
		return Config{}, "", fmt.Errorf("config file %s: %w", path, err)
	}
	return c, path, nil
}

// decodeConfig parses a config file's content.
func decodeConfig(data []byte) (Config, error) {
	var c Config
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&c); err != nil {
		if errors.Is(err, io.EOF) { // an empty file
			return Config{}, nil
		}
		return Config{}, friendlyYAML(err)
	}
	return c, nil
}

// friendlyYAML rewords yaml's unknown-field errors to name the known keys.
func friendlyYAML(err error) error {
	msg := err.Error()
	if strings.Contains(msg, "not found in type") {
		msg = strings.ReplaceAll(msg, " in type batch.Config", "")
		return fmt.Errorf("%s (known keys: backend, vault_mount, kv_version, gcp_project, aws_region, env_map, concurrency, languages, out)", msg)
	}
	return err
}

// merge lays c over base: every setting c gives replaces base's.
func merge(base, c Config) Config {
	if c.Backend != "" {
		base.Backend = c.Backend
	}
	if c.VaultMount != "" {
		base.VaultMount = c.VaultMount
	}
	if c.KVVersion != 0 {
		base.KVVersion = c.KVVersion
	}
	if c.GCPProject != "" {
		base.GCPProject = c.GCPProject
	}
	if c.AWSRegion != "" {
		base.AWSRegion = c.AWSRegion
	}
	if c.EnvMap != nil {
		base.EnvMap = c.EnvMap
	}
	if c.Concurrency != 0 {
		base.Concurrency = c.Concurrency
	}
	if c.Languages != nil {
		base.Languages = c.Languages
	}
	if c.Out != "" {
		base.Out = c.Out
	}
	return base
}

// validate checks the merged settings.
func (c Config) validate() error {
	switch c.Backend {
	case plan.BackendVault:
		if strings.Trim(c.VaultMount, "/ ") == "" {
			return errors.New("vault_mount must not be empty")
		}
		if c.KVVersion != 1 && c.KVVersion != 2 {
			return fmt.Errorf("kv_version must be 1 or 2, not %d", c.KVVersion)
		}
	case plan.BackendGCP:
		if c.GCPProject == "" {
			return errors.New("the gcp backend needs gcp_project (--gcp-project)")
		}
	case plan.BackendAWS:
		if c.AWSRegion == "" {
			return errors.New("the aws backend needs aws_region (--aws-region)")
		}
	default:
		return fmt.Errorf("unknown backend %q (want vault, gcp or aws)", c.Backend)
	}
	if c.Concurrency < 0 {
		return fmt.Errorf("concurrency must not be negative, not %d", c.Concurrency)
	}
	if strings.TrimSpace(c.Out) == "" {
		return errors.New("out must name a folder")
	}
	return nil
}

// backend returns the plan backend the settings name.
func (c Config) backend() plan.Backend {
	switch c.Backend {
	case plan.BackendGCP:
		return plan.Backend{Kind: plan.BackendGCP, Project: c.GCPProject}
	case plan.BackendAWS:
		return plan.Backend{Kind: plan.BackendAWS, Region: c.AWSRegion}
	}
	return plan.Backend{Kind: plan.BackendVault, Mount: strings.Trim(c.VaultMount, "/ "), KVVersion: c.KVVersion}
}

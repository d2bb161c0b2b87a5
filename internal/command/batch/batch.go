// Package batch implements `env2vault batch`: scan -> plan -> migrate ->
// rewrite -> verify with no prompts, for CI. See EXIT_CODES.md.
package batch

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/env2vault/env2vault/discover"
	"github.com/env2vault/env2vault/internal/cli"
	"github.com/env2vault/env2vault/migrate"
	"github.com/env2vault/env2vault/plan"
	"github.com/env2vault/env2vault/rewrite"
	"github.com/env2vault/env2vault/secret"
)

// Options are the batch command's settings.
type Options struct {
	IO    *cli.IOStreams
	Paths []string
	// DryRun stops before any write (backend or files), still producing
	// every report. Yes allows the writes; one of them is required.
	DryRun, Yes bool
	// ConfigFile is --config; empty reads env2vault.yaml when present.
	ConfigFile string
	// Flags are the settings given as flags, applied over the file.
	Flags Config
	// EnvMap is --env-map text (FILE=ENV pairs).
	EnvMap string
	// InsecureHTTP allows plain http:// to a non-loopback Vault.
	InsecureHTTP bool
	// Endpoint overrides the GCP or AWS endpoint.
	Endpoint string
	// Version is recorded in SARIF.
	Version string

	// stages are the library calls (tests may replace some).
	stages stages
}

// NewCmd returns the `batch` command.
func NewCmd(ios *cli.IOStreams) *cobra.Command {
	opts := &Options{IO: ios}
	cmd := &cobra.Command{
		Use:   "batch [flags] PATH...",
		Short: "Scan, plan, migrate, rewrite and verify with no prompts (for CI)",
		Long: `Batch runs the whole migration with no prompts: scan the folders, build the
plan, push the secrets, rewrite the code and config, and verify.

  --dry-run  stops before any write and still produces every report
  --yes      is required to write (to the backend and to files)

Reports go to --out (default env2vault-out): plan.yaml, scan.json,
scan.sarif, report.md, report.json, report.html and one checklist per
phase (checklist-inventory.md, ...). Settings may come from a config file
(env2vault.yaml in the working folder, or --config) whose keys mirror the
flags: backend, vault_mount, kv_version, gcp_project, aws_region, env_map,
concurrency, languages, out. Flags win over the file.

Credentials are never flags: Vault reads VAULT_ADDR and VAULT_TOKEN (or the
token helper), GCP Application Default Credentials, AWS its default chain.

On a non-terminal, progress is printed as JSON lines on stderr.

Exit codes: 0 nothing found, 1 secrets found and nothing written (dry run),
2 error, 3 conflicts or failed secrets, 4 migrated.`,
		Example: `  env2vault batch --dry-run --out reports .
  env2vault batch --yes --backend vault --vault-mount secret ./services`,
		Args: cobra.ArbitraryArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Paths = args
			if len(opts.Paths) == 0 {
				opts.Paths = []string{"."}
			}
			return Run(cmd.Context(), opts, cmd.Flags())
		},
	}
	f := cmd.Flags()
	f.BoolVar(&opts.DryRun, "dry-run", false, "report only: write nothing to the backend or to files")
	f.BoolVar(&opts.Yes, "yes", false, "allow writing to the backend and rewriting files")
	f.StringVar(&opts.ConfigFile, "config", "", "config file (default ./"+DefaultConfigFile+" when present)")
	f.StringVar(&opts.Flags.Out, "out", "", "folder for the plan, reports and checklists (default env2vault-out)")
	f.StringVar(&opts.Flags.Backend, "backend", "", "vault, gcp or aws (default vault)")
	f.StringVar(&opts.Flags.VaultMount, "vault-mount", "", "Vault KV mount (default secret)")
	f.IntVar(&opts.Flags.KVVersion, "kv-version", 0, "Vault KV version, 1 or 2 (default 2)")
	f.StringVar(&opts.Flags.GCPProject, "gcp-project", "", "Google Cloud project id")
	f.StringVar(&opts.Flags.AWSRegion, "aws-region", "", "AWS region")
	f.StringVar(&opts.EnvMap, "env-map", "", "environments of .env files, e.g. .env.qa=staging,.env.ci=test")
	f.IntVar(&opts.Flags.Concurrency, "concurrency", 0, "parallel scanning and backend writes (default: CPUs)")
	f.StringSliceVar(&opts.Flags.Languages, "languages", nil, "rewrite code in these languages only (go, python, javascript)")
	f.BoolVar(&opts.InsecureHTTP, "insecure-http", false, "allow plain http:// to a non-loopback Vault")
	f.StringVar(&opts.Endpoint, "endpoint", "", "GCP or AWS endpoint override")
	return cmd
}

// flagConfig keeps only the settings whose flags were given. Without a
// flag set (a caller other than the CLI), every setting opts.Flags and
// opts.EnvMap give counts as given.
func flagConfig(opts *Options, fs *pflag.FlagSet) (Config, error) {
	var c Config
	if fs == nil {
		c = opts.Flags
		if opts.EnvMap != "" {
			m, err := plan.ParseEnvMap(opts.EnvMap)
			if err != nil {
				return c, fmt.Errorf("env map: %w", err)
			}
			c.EnvMap = m
		}
		return c, nil
	}
	changed := fs.Changed
	if changed("backend") {
		c.Backend = opts.Flags.Backend
	}
	if changed("vault-mount") {
		c.VaultMount = opts.Flags.VaultMount
	}
	if changed("kv-version") {
		c.KVVersion = opts.Flags.KVVersion
		if c.KVVersion == 0 {
			return c, errors.New("--kv-version must be 1 or 2")
		}
	}
	if changed("gcp-project") {
		c.GCPProject = opts.Flags.GCPProject
	}
	if changed("aws-region") {
		c.AWSRegion = opts.Flags.AWSRegion
	}
	if changed("concurrency") {
		c.Concurrency = opts.Flags.Concurrency
	}
	if changed("languages") {
		c.Languages = opts.Flags.Languages
	}
	if changed("out") {
		c.Out = opts.Flags.Out
	}
	if changed("env-map") {
		m, err := plan.ParseEnvMap(opts.EnvMap)
		if err != nil {
			return c, fmt.Errorf("--env-map: %w", err)
		}
		c.EnvMap = m
	}
	return c, nil
}

// settings merges defaults, the config file and the flags.
func settings(opts *Options, fs *pflag.FlagSet) (Config, error) {
	file, _, err := loadConfig(opts.ConfigFile)
	if err != nil {
		return Config{}, err
	}
	flags, err := flagConfig(opts, fs)
	if err != nil {
		return Config{}, err
	}
	c := merge(merge(defaults(), file), flags)
	for i, l := range c.Languages {
		n, err := rewrite.NormalizeLanguage(l)
		if err != nil {
			return Config{}, fmt.Errorf("languages: %w", err)
		}
		c.Languages[i] = n
	}
	return c, c.validate()
}

// Run performs the batch run. fs tells which flags were given; nil means
// the settings in opts.Flags are all meant (see flagConfig).
func Run(ctx context.Context, opts *Options, fs *pflag.FlagSet) error {
	fail := func(err error) error { return &cli.ExitError{Code: cli.ExitFailure, Err: err} }
	if opts.DryRun && opts.Yes {
		return fail(errors.New("--dry-run and --yes contradict each other: choose one"))
	}
	if !opts.DryRun && !opts.Yes {
		return fail(errors.New("batch writes secrets to the backend and rewrites files: pass --yes to go ahead, or --dry-run to only report"))
	}
	cfg, err := settings(opts, fs)
	if err != nil {
		return fail(err)
	}
	for _, p := range opts.Paths {
		if st, err := os.Stat(p); err != nil || !st.IsDir() {
			return fail(fmt.Errorf("%s is not a folder", p))
		}
	}
	st := opts.stages.withDefaults()
	r := &run{ctx: ctx, opts: opts, cfg: cfg, st: st, rep: &reporter{w: opts.IO.ErrOut, json: !opts.IO.ErrTTY}}
	code, err := r.do()
	if c, ok := r.be.(io.Closer); ok { // the GCP backend holds a connection
		_ = c.Close()
	}
	r.rep.emit("batch", "exit", map[string]any{"code": code})
	if err != nil {
		return &cli.ExitError{Code: code, Err: err}
	}
	if code != cli.ExitOK {
		return cli.Exit(code)
	}
	return nil
}

// run is one batch run's state.
type run struct {
	ctx  context.Context
	opts *Options
	cfg  Config
	st   stages
	rep  *reporter
	fp   *secret.Fingerprinter
	res  *discover.Result
	p    *plan.Plan
	be   migrate.Backend
}

// do runs the stages and returns the exit code.
func (r *run) do() (int, error) {
	ctx, cfg := r.ctx, r.cfg
	var err error
	if r.fp, err = secret.LoadFingerprinter(); err != nil {
		return cli.ExitFailure, err
	}

	// 1. Scan.
	r.rep.emit("scan", "start", map[string]any{"paths": len(r.opts.Paths)})
	lastPhase := ""
	r.res, err = r.st.Scan(ctx, r.opts.Paths, cfg, r.fp, func(p discover.Progress) {
		if p.Phase != lastPhase && p.Phase != "done" {
			lastPhase = p.Phase
			r.rep.emit("scan", "progress", map[string]any{"phase": p.Phase, "files": p.Files, "repos": p.Repos, "secrets": p.Secrets})
		}
	})
	if err != nil {
		return cli.ExitFailure, fmt.Errorf("scan: %w", err)
	}
	secrets := 0
	for _, f := range r.res.Findings {
		if f.IsSecret() {
			secrets++
		}
	}
	r.rep.emit("scan", "done", map[string]any{"repos": r.res.Stats.Repos, "files": r.res.Stats.FilesScanned, "findings": len(r.res.Findings), "secrets": secrets})
	incomplete := r.res.Incomplete()
	if len(incomplete) > 0 {
		// Files that may hold secrets and could not be read (a malformed
		// .env file, say): named on stderr, never a silent skip.
		paths := make([]string, 0, len(incomplete))
		for _, s := range incomplete {
			paths = append(paths, s.Path+": "+s.Reason+": "+s.Detail)
		}
		r.rep.emit("scan", "incomplete", map[string]any{"count": len(incomplete), "skipped": paths})
	}

	// 2. Plan, with a live diff when the backend answers.
	r.p, err = r.st.Plan(ctx, r.res, cfg)
	if err != nil {
		r.writeReports()
		return cli.ExitFailure, fmt.Errorf("plan: %w", err)
	}
	r.rep.emit("plan", "done", map[string]any{"secrets": len(r.p.Secrets), "rotate": countRotate(r.p), "repos": len(r.p.Repos)})
	if len(r.p.Secrets) > 0 {
		if err := r.connect(); err != nil {
			if !r.opts.DryRun {
				r.writeReports()
				return cli.ExitFailure, err
			}
			// A dry run still reports, with every secret planned as create.
			r.p.DiffStatus = "offline: " + err.Error()
			r.rep.emit("diff", "skipped", map[string]any{"reason": err.Error()})
		} else if err := r.st.Diff(ctx, r.be, r.p, r.fp); err != nil {
			r.writeReports()
			return cli.ExitFailure, fmt.Errorf("comparing the plan with the backend: %w", err)
		} else {
			r.rep.emit("diff", "done", actionCounts(r.p))
		}
	}
	if err := r.writeReports(); err != nil {
		return cli.ExitFailure, err
	}
	switch {
	case len(r.p.Secrets) == 0 && len(incomplete) > 0:
		return cli.ExitFailure, r.res.IncompleteError()
	case len(r.p.Secrets) == 0:
		return cli.ExitOK, nil
	case r.opts.DryRun:
		return cli.ExitFound, nil
	}

	// 3. Migrate.
	r.rep.emit("migrate", "start", map[string]any{"secrets": len(r.p.Secrets)})
	sum, err := r.st.Migrate(ctx, r.be, r.p, r.fp, cfg, func(name, action string, done, total int) {
		r.rep.emit("migrate", "progress", map[string]any{"secret": name, "action": action, "done": done, "total": total})
	})
	if err != nil {
		return cli.ExitFailure, fmt.Errorf("migrate: %w (finished secrets are kept; rerun to resume)", err)
	}
	r.rep.emit("migrate", "done", map[string]any{"created": sum.Created, "updated": sum.Updated, "unchanged": sum.Unchanged, "conflicts": sum.Conflicts, "failed": sum.Failed})
	if sum.Conflicts > 0 || sum.Failed > 0 {
		return cli.ExitConflict, fmt.Errorf("%d conflict(s) and %d failed secret(s): nothing was rewritten; resolve them in the backend and rerun", sum.Conflicts, sum.Failed)
	}

	// 4. Rewrite.
	cs, err := r.st.Rewrite(ctx, r.p, cfg, r.fp)
	if err != nil {
		return cli.ExitFailure, fmt.Errorf("rewrite: %w", err)
	}
	if err := r.writeDiff(cs); err != nil {
		return cli.ExitFailure, err
	}
	if err := cs.Apply(ctx, nil); err != nil {
		return cli.ExitFailure, fmt.Errorf("rewrite: %w", err)
	}
	applied := 0
	for _, f := range cs.Files {
		if f.Applied {
			applied++
		}
	}
	r.rep.emit("rewrite", "done", map[string]any{"files": applied, "notes": len(cs.Notes)})

	// 5. Verify.
	rep, err := r.st.Verify(ctx, r.be, r.p, r.fp)
	if err != nil {
		return cli.ExitFailure, fmt.Errorf("verify: %w", err)
	}
	if err := writeJSONFile(filepath.Join(cfg.Out, FileVerifyJSON), rep); err != nil {
		return cli.ExitFailure, err
	}
	r.rep.emit("verify", "done", map[string]any{"verified": rep.Verified, "secrets": rep.Secrets, "problems": len(rep.Problems), "ok": rep.OK()})
	if rep.Verified < rep.Secrets {
		// The backend does not hold every planned value: failed secrets.
		return cli.ExitConflict, fmt.Errorf("verification failed: %d of %d secret(s) are not in the backend with the planned value; see %s",
			rep.Secrets-rep.Verified, rep.Secrets, filepath.Join(cfg.Out, FileVerifyJSON))
	}
	if !rep.OK() {
		// Migrated, with leftovers the rewrite could not change (listed
		// for people to finish by hand); `env2vault verify` fails on them.
		r.rep.emit("verify", "leftovers", map[string]any{"problems": len(rep.Problems), "report": filepath.Join(cfg.Out, FileVerifyJSON)})
	}
	return cli.ExitMigrated, nil
}

// connect opens the backend and checks connectivity and credentials.
func (r *run) connect() error {
	b := r.cfg.backend()
	be, err := r.st.Open(r.ctx, b, migrate.Options{AllowInsecureHTTP: r.opts.InsecureHTTP, Endpoint: r.opts.Endpoint})
	if err != nil {
		return fmt.Errorf("opening the %s backend: %w", b.Kind, err)
	}
	if err := be.Check(r.ctx); err != nil {
		return fmt.Errorf("checking the %s backend: %w", b.Kind, err)
	}
	r.be = be
	r.rep.emit("backend", "ok", map[string]any{"kind": b.Kind})
	return nil
}

// writeReports writes every report the run has data for.
func (r *run) writeReports() error {
	files, err := WriteReports(r.cfg.Out, r.res, r.p, r.opts.Version)
	if err != nil {
		return err
	}
	r.rep.emit("reports", "done", map[string]any{"out": r.cfg.Out, "files": strings.Join(files, ",")})
	return nil
}

// FileRewriteDiff and FileVerifyJSON are written by a --yes run.
const (
	FileRewriteDiff = "rewrite.diff"
	FileVerifyJSON  = "verify.json"
)

// writeDiff saves the (redacted) rewrite diff next to the reports.
func (r *run) writeDiff(cs *rewrite.Changeset) error {
	var b strings.Builder
	if err := cs.Diff(&b); err != nil {
		return fmt.Errorf("rendering the rewrite diff: %w", err)
	}
	if err := rewrite.WriteFileAtomic(filepath.Join(r.cfg.Out, FileRewriteDiff), []byte(b.String()), 0o644); err != nil {
		return fmt.Errorf("writing %s: %w", FileRewriteDiff, err)
	}
	return nil
}

func countRotate(p *plan.Plan) int {
	n := 0
	for _, s := range p.Secrets {
		if s.Rotate {
			n++
		}
	}
	return n
}

// actionCounts tallies the plan's secrets by action.
func actionCounts(p *plan.Plan) map[string]any {
	m := map[string]any{}
	for _, a := range []string{plan.ActionCreate, plan.ActionUpdate, plan.ActionNoop, plan.ActionConflict} {
		m[strings.ReplaceAll(a, "-", "")] = 0
	}
	for _, s := range p.Secrets {
		k := strings.ReplaceAll(s.Action, "-", "")
		if n, ok := m[k].(int); ok {
			m[k] = n + 1
		}
	}
	return m
}

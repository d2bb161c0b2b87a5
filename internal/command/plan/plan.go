// Package plan implements the `env2vault plan` command.
package plan

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/env2vault/env2vault/discover"
	"github.com/env2vault/env2vault/internal/cli"
	"github.com/env2vault/env2vault/migrate"
	"github.com/env2vault/env2vault/plan"
	"github.com/env2vault/env2vault/plan/report"
	"github.com/env2vault/env2vault/secret"
)

// Options are the plan command's settings.
type Options struct {
	IO *cli.IOStreams
	// Paths are the folders to scan (default ".").
	Paths []string
	// FromScan are scan JSON files to plan from instead of scanning.
	FromScan []string
	// Output is the plan file to write (plan.DefaultFile when empty).
	Output string
	// Format is the report format: text, markdown, json or html.
	Format string

	Backend      plan.Backend
	NameTemplate string
	EnvMap       string
	Owners       []string
	// NoHistory skips the git history search while scanning.
	NoHistory bool

	// Offline skips the live diff against the backend.
	Offline      bool
	InsecureHTTP bool
	Endpoint     string
	// DiffTimeout bounds the live diff (one minute when 0).
	DiffTimeout time.Duration

	// Scan, Open, Diff and Lookup replace the real calls in tests; nil
	// means discover.Scan, migrate.Open, migrate.Diff and a GitLookup.
	Scan   func(ctx context.Context, opts discover.Options) (*discover.Result, error)
	Open   func(ctx context.Context, b plan.Backend, opts migrate.Options) (migrate.Backend, error)
	Diff   func(ctx context.Context, b migrate.Backend, p *plan.Plan, fp *secret.Fingerprinter) error
	Lookup plan.Lookup
}

// NewCmd returns the `plan` command.
func NewCmd(ios *cli.IOStreams) *cobra.Command {
	opts := &Options{IO: ios}
	cmd := &cobra.Command{
		Use:   "plan [flags] PATH...",
		Short: "Plan the migration: inventory, names, targets, rotation and checklists",
		Long: `Plan scans the given folders (default ".") — or reads scan JSON files with
--from-scan — and writes a migration plan file (YAML, -o, default
env2vault-plan.yaml) holding one secret per distinct value per environment:
its name (<service>-<purpose>-<env>), owner, last rotation, sources,
consumers, whether it must be rotated and why, and its target in the
backend, plus per-phase checklists. The plan holds no secret values.

When the backend is reachable with the credentials in the environment, each
secret is marked create, update, no-op or conflict against what the backend
already holds (compared by fingerprint); otherwise, or with --offline,
everything is planned as create and the plan says why.

Environments come from .env file names (.env, .env.local, .env.development:
dev; .env.staging, .env.stg: staging; .env.production, .env.prod: prod;
.env.test: test); --env-map overrides them. Hardcoded values join the secret
of an .env entry with the same value, else get the "shared" environment.

The report (--format text, markdown, json or html) goes to stdout; json is
the plan itself. Exit status: 0 when there is nothing to do, 1 when the plan
has secrets to create or change, 2 on errors — including a scan that could
not read a file that may hold secrets (a malformed or unreadable .env file):
the plan is still written, and stderr names what is missing from it.`,
		Example: `  env2vault plan ~/src/billing-api ~/src/web
  env2vault plan --backend gcp --gcp-project acme-prod --format html . > plan.html
  env2vault plan --from-scan scans/*.json -o org-plan.yaml
  env2vault plan --env-map '.env.qa=staging' --owner web=@acme/frontend .
  env2vault plan --name-template '{{.Repo}}-{{.Key}}-{{.Env}}' .`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(opts.FromScan) > 0 {
				// With --from-scan, the remaining arguments are scan
				// files too, so `--from-scan scans/*.json` works.
				opts.FromScan = append(opts.FromScan, args...)
			} else {
				opts.Paths = args
			}
			return Run(cmd.Context(), opts)
		},
	}
	f := cmd.Flags()
	f.StringVarP(&opts.Output, "output", "o", plan.DefaultFile, "plan file to write")
	f.StringVar(&opts.Format, "format", "text", "report format: text, markdown, json or html")
	f.StringArrayVar(&opts.FromScan, "from-scan", nil, "build the plan from scan JSON `FILE`s (env2vault scan --format json) instead of scanning; repeatable")
	f.StringVar(&opts.Backend.Kind, "backend", plan.BackendVault, "backend: vault, gcp or aws")
	f.StringVar(&opts.Backend.Mount, "vault-mount", plan.DefaultVaultMount, "Vault KV mount")
	f.IntVar(&opts.Backend.KVVersion, "vault-kv-version", 2, "Vault KV version: 1 or 2")
	f.StringVar(&opts.Backend.Project, "gcp-project", "", "Google Cloud project (default $GOOGLE_CLOUD_PROJECT)")
	f.StringVar(&opts.Backend.Region, "aws-region", "", "AWS region (default $AWS_REGION)")
	f.StringVar(&opts.NameTemplate, "name-template", "", "Go template for secret names over {{.Service}} {{.Purpose}} {{.Env}} {{.Key}} {{.Repo}} (default "+plan.DefaultNameTemplate+")")
	f.StringVar(&opts.EnvMap, "env-map", "", "override environments of .env files: comma-separated `FILE=ENV` pairs, e.g. .env.qa=staging")
	f.StringArrayVar(&opts.Owners, "owner", nil, "set the owner of a repo's secrets: `REPO=TEAM`; repeatable")
	f.BoolVar(&opts.Offline, "offline", false, "do not contact the backend; plan every secret as create")
	f.BoolVar(&opts.NoHistory, "no-history", false, "do not search git history while scanning")
	f.BoolVar(&opts.InsecureHTTP, "insecure-http", false, "allow plain http:// to a non-loopback Vault")
	f.StringVar(&opts.Endpoint, "endpoint", "", "GCP or AWS endpoint override")
	return cmd
}

// Run builds the plan, writes the plan file and prints the report.
func Run(ctx context.Context, opts *Options) error {
	fail := func(err error) error { return &cli.ExitError{Code: cli.ExitFailure, Err: err} }
	if !slices.Contains(report.Formats, opts.Format) {
		return fail(fmt.Errorf("unknown --format %q (want %s)", opts.Format, strings.Join(report.Formats, ", ")))
	}
	bo, err := buildOptions(opts)
	if err != nil {
		return fail(err)
	}

	res, err := scanOrLoad(ctx, opts)
	if err != nil {
		return fail(err)
	}
	p, err := plan.Build(ctx, res, bo)
	if err != nil {
		return fail(err)
	}
	p.DiffStatus = liveDiff(ctx, opts, p)
	p.Refresh()

	out := opts.Output
	if out == "" {
		out = plan.DefaultFile
	}
	if err := plan.Save(out, p); err != nil {
		return fail(err)
	}
	if err := report.Write(opts.IO.Out, p, opts.Format, opts.IO.Color && opts.Format == "text"); err != nil {
		return fail(fmt.Errorf("writing the report: %w", err))
	}
	sum := report.Summarize(p)
	fmt.Fprintf(opts.IO.ErrOut, "Wrote %s: %d secrets, %d to rotate, %d checklist items. Next: env2vault checklist --plan %s\n",
		out, sum.Secrets, sum.Rotate, sum.Items, out)
	// The plan is written, but a file that may hold secrets could not be
	// read: its secrets are not in it.
	if err := res.IncompleteError(); err != nil {
		return fail(fmt.Errorf("%s may be incomplete: %w", out, err))
	}
	for _, s := range p.Secrets {
		if s.Action != plan.ActionNoop {
			return cli.Exit(cli.ExitFound)
		}
	}
	return nil
}

func buildOptions(opts *Options) (plan.BuildOptions, error) {
	be := opts.Backend
	if be.Kind == plan.BackendGCP && be.Project == "" {
		be.Project = os.Getenv("GOOGLE_CLOUD_PROJECT")
	}
	if be.Kind == plan.BackendAWS && be.Region == "" {
		be.Region = cmpOr(os.Getenv("AWS_REGION"), os.Getenv("AWS_DEFAULT_REGION"))
	}
	envMap, err := plan.ParseEnvMap(opts.EnvMap)
	if err != nil {
		return plan.BuildOptions{}, fmt.Errorf("--env-map: %w", err)
	}
	owners, err := plan.ParseOwners(opts.Owners)
	if err != nil {
		return plan.BuildOptions{}, fmt.Errorf("--owner: %w", err)
	}
	lookup := opts.Lookup
	if lookup == nil {
		lookup = plan.NewGitLookup(opts.IO.Logger(slog.LevelWarn))
	}
	return plan.BuildOptions{Backend: be, NameTemplate: opts.NameTemplate, EnvMap: envMap, Owners: owners, Lookup: lookup}, nil
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// scanOrLoad returns the scan result: read from --from-scan files, or
// made by scanning the paths.
func scanOrLoad(ctx context.Context, opts *Options) (*discover.Result, error) {
	if len(opts.FromScan) > 0 {
		return plan.LoadScans(opts.FromScan...)
	}
	paths := opts.Paths
	if len(paths) == 0 {
		paths = []string{"."}
	}
	for _, p := range paths {
		st, err := os.Stat(p)
		if err != nil {
			return nil, fmt.Errorf("cannot scan %s: %w", p, err)
		}
		if !st.IsDir() {
			return nil, fmt.Errorf("cannot scan %s: not a folder (to plan from a scan file, use --from-scan)", p)
		}
	}
	fp, err := secret.LoadFingerprinter()
	if err != nil {
		return nil, err
	}
	scan := opts.Scan
	if scan == nil {
		scan = discover.Scan
	}
	res, err := scan(ctx, discover.Options{Paths: paths, Fingerprinter: fp, SkipHistory: opts.NoHistory})
	if err != nil {
		return nil, fmt.Errorf("scanning: %w", err)
	}
	return res, nil
}

// liveDiff marks each secret's action against the backend and returns the
// plan's DiffStatus: "live", or "offline: <why>" with every action create.
func liveDiff(ctx context.Context, opts *Options, p *plan.Plan) string {
	offline := func(why string) string {
		for i := range p.Secrets {
			p.Secrets[i].Action = plan.ActionCreate
		}
		return "offline: " + why
	}
	if opts.Offline {
		return offline("--offline given")
	}
	if len(p.Secrets) == 0 {
		return offline("nothing to compare")
	}
	timeout := opts.DiffTimeout
	if timeout == 0 {
		timeout = time.Minute
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	open := opts.Open
	if open == nil {
		open = migrate.Open
	}
	diff := opts.Diff
	if diff == nil {
		diff = defaultDiff
	}
	be, err := open(ctx, p.Backend, migrate.Options{AllowInsecureHTTP: opts.InsecureHTTP, Endpoint: opts.Endpoint})
	if err != nil {
		return offline(oneLine(err))
	}
	if err := be.Check(ctx); err != nil {
		return offline("cannot reach the " + p.Backend.Kind + " backend: " + oneLine(err))
	}
	fp, err := secret.LoadFingerprinter()
	if err != nil {
		return offline(oneLine(err))
	}
	if err := diff(ctx, be, p, fp); err != nil {
		if errors.Is(err, context.Canceled) && ctx.Err() != nil && !errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return offline("interrupted")
		}
		return offline("the live diff failed: " + oneLine(err))
	}
	return "live"
}

// oneLine keeps the first line of an error message.
func oneLine(err error) string {
	s, _, _ := strings.Cut(err.Error(), "\n")
	return s
}

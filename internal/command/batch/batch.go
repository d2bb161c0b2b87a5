// Package batch implements the `env2vault batch` command.
package batch

import (
	"errors"

	"github.com/spf13/cobra"

	"github.com/env2vault/env2vault/internal/cli"
)

// NewCmd returns the `batch` command.
func NewCmd(ios *cli.IOStreams) *cobra.Command {
	return &cobra.Command{
		Use:   "batch",
		Short: "PLACEHOLDER: being built",
		RunE: func(cmd *cobra.Command, args []string) error {
			return errors.New("batch is not built yet")
		},
	}
}

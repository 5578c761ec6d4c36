//! `marketplace chart ...` (owned by the Helm engine work; placeholder until it lands).

#[derive(clap::Subcommand)]
pub enum ChartCommand {}

pub fn run(command: ChartCommand) -> anyhow::Result<()> {
    match command {}
}

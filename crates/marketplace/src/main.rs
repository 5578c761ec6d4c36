//! `marketplace`: the product's binary. It only parses the command line and hands each subcommand to
//! the module that owns it; the work lives in the library crates.

mod catalog;
mod chart;
mod controllers;
mod image;
mod operators;
mod registry;
mod releases;
mod serve;
mod user;

/// mimalloc instead of glibc's malloc: chart rendering makes many small short-lived allocations
/// (a quarter of its time went to malloc/free), and the API server's request handling is alike.
#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

use clap::{Parser, Subcommand};

/// The extension system of a Kubernetes platform: Operators, cluster plugins, offline packages.
#[derive(Parser)]
#[command(name = "marketplace", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the embedded Kubernetes-compatible control plane for the global and workload clusters.
    Serve(serve::ServeArgs),
    /// Run the product's controllers against real clusters (global via --kubeconfig, workload
    /// clusters via --cluster NAME=KUBECONFIG).
    Controllers(controllers::ControllersArgs),
    /// Print every CRD the product defines, for `kubectl apply -f -`.
    Crds(controllers::CrdsArgs),
    /// Work with Helm charts (cluster plugins are Helm charts).
    #[command(subcommand)]
    Chart(chart::ChartCommand),
    /// Copy and inspect container images (OCI layouts, docker-archive files, registries).
    #[command(subcommand)]
    Image(image::ImageCommand),
    /// Operator lifecycle tasks (batch upgrade of Alauda operators).
    #[command(subcommand)]
    Operators(operators::OperatorsCommand),
    /// Render operator catalogs and bundles, and ask what OLM would install or upgrade to.
    #[command(subcommand)]
    Catalog(catalog::CatalogCommand),
    /// Platform users (offline, in the data dir of `serve`): add, list, passwd, delete.
    #[command(subcommand)]
    User(user::UserCommand),
}

fn main() -> anyhow::Result<()> {
    match Cli::parse().command {
        Command::Serve(args) => serve::run(args),
        Command::Controllers(args) => controllers::run(args),
        Command::Crds(args) => controllers::crds(args),
        Command::Chart(command) => chart::run(command),
        Command::Image(command) => image::run(command),
        Command::Operators(command) => operators::run(command),
        Command::Catalog(command) => catalog::run(command),
        Command::User(command) => user::run(command),
    }
}

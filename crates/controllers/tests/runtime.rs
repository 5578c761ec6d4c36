//! `runtime::run` stops when its cluster's shutdown token fires, also before the controller's
//! first list has filled its store (kube-runtime's runner alone would wait for that list forever,
//! and the host would abort the set after its grace period, logging an error).

mod common;

use std::sync::Arc;
use std::time::Duration;

use kube::api::{Api, DynamicObject};
use kube::discovery::ApiResource;
use kube::runtime::Controller;
use kube::runtime::controller::Action;
use kube::runtime::watcher;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_controller_asked_to_stop_before_its_store_is_filled_stops() {
    let running = common::start(vec![]).await;
    let client = running
        .cp
        .client(apiserver::GLOBAL)
        .expect("the global cluster");
    // A resource no cluster serves: every list answers 404, so the store is never filled.
    let missing = ApiResource {
        group: "never.example.com".into(),
        version: "v1".into(),
        api_version: "never.example.com/v1".into(),
        kind: "Missing".into(),
        plural: "missings".into(),
    };
    let api: Api<DynamicObject> = Api::all_with(client.clone(), &missing);
    let controller = Controller::new_with(api, watcher::Config::default(), missing);
    let cx = controllers::ClusterContext {
        name: apiserver::GLOBAL.into(),
        client,
        labels: Default::default(),
        global: true,
        registry: None,
        shutdown: Default::default(),
        metrics: running.host_metrics.clone(),
    };
    let reconcile =
        |_: Arc<DynamicObject>, _: Arc<()>| async { Ok::<_, kube::Error>(Action::await_change()) };
    let run = controllers::runtime::run(&cx, "never-filled", controller, reconcile, Arc::new(()));
    let stop = async {
        cx.shutdown.cancel();
    };
    let ((), finished) = tokio::join!(stop, tokio::time::timeout(Duration::from_secs(60), run));
    assert!(
        finished.is_ok(),
        "runtime::run did not return within 60 s of its shutdown token firing"
    );
    running.stop().await;
}

//! The time a request may spend reading.
//!
//! On Lambda the limit is the invocation's own deadline (the `lambda_runtime::Context` that
//! `lambda_http` puts into the request's extensions) less a margin for writing the answer;
//! locally, and as an upper bound everywhere, it is `TIME_BUDGET_MS`. The [`layer`] middleware
//! works it out once per request and keeps it in a task-local, so every reader of the request
//! (FilterLogEvents pages, retries, Logs Insights polling) stops on the same instant and answers
//! `partial: true` with a cursor instead of timing out.

use std::future::Future;
use std::time::{Duration, Instant, SystemTime};

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;

use crate::AppState;

/// Time kept back from the Lambda deadline to serialise and send the answer.
pub const LAMBDA_MARGIN: Duration = Duration::from_millis(1500);

tokio::task_local! {
    static DEADLINE: Instant;
}

/// Runs `f` with `deadline` as the request's deadline.
pub async fn scope<F: Future>(deadline: Instant, f: F) -> F::Output {
    DEADLINE.scope(deadline, f).await
}

/// The deadline of the request being served, if any.
pub fn current() -> Option<Instant> {
    DEADLINE.try_with(|d| *d).ok()
}

/// The deadline for a request that starts now: `budget` from now, or earlier when the Lambda
/// invocation ends sooner (`lambda_deadline`, less [`LAMBDA_MARGIN`]).
pub fn deadline_for(budget: Duration, lambda_deadline: Option<SystemTime>) -> Instant {
    let now = Instant::now();
    let local = now + budget;
    match lambda_deadline {
        Some(end) => {
            let left = end
                .duration_since(SystemTime::now())
                .unwrap_or(Duration::ZERO)
                .saturating_sub(LAMBDA_MARGIN);
            local.min(now + left)
        }
        None => local,
    }
}

/// Middleware: sets the request's deadline from the Lambda context or `TIME_BUDGET_MS`.
pub async fn layer(State(st): State<AppState>, req: Request, next: Next) -> Response {
    let lambda = req
        .extensions()
        .get::<lambda_http::Context>()
        .map(|c| c.deadline());
    let deadline = deadline_for(st.config.budget, lambda);
    scope(deadline, next.run(req)).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_lambda_deadline_wins_when_it_is_sooner() {
        let budget = Duration::from_secs(20);
        let d = deadline_for(budget, None);
        assert!(d > Instant::now() + Duration::from_secs(19));
        let soon = SystemTime::now() + Duration::from_secs(3);
        let d = deadline_for(budget, Some(soon));
        let left = d.saturating_duration_since(Instant::now());
        assert!(left <= Duration::from_millis(1500) && left > Duration::from_millis(1000));
        // Already past: no time at all.
        let d = deadline_for(budget, Some(SystemTime::now() - Duration::from_secs(1)));
        assert!(d <= Instant::now());
    }
}

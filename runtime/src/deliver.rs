//! Delivering one single-request write (PutItem, UpdateItem, DeleteItem) so that its
//! reported result is true when a response is lost.
//!
//! The SDK's own retries resend the same bytes, and a resent write that had been applied
//! applies again (a counter twice) or meets its own result (a create finds its own item
//! and says "already exists"). So writes go through a client with the SDK's retries off,
//! and this module retries them itself, knowing what each failed attempt may have done:
//!
//! - a throttled or refused attempt was not applied: it is sent again as it was;
//! - an attempt whose answer was lost (a timeout, a broken connection, a 5xx) may have
//!   been applied. From then on the write carries a guard: it applies only if the item
//!   does not hold this call's write token ([`WRITE_TOKEN_ATTRIBUTE`], a random value each
//!   call writes). A write that accumulates (a counter, a list append, a version bump
//!   without an expected version) is not sent again at all: a probe with a condition that
//!   never holds returns the stored item instead.
//!
//! The caller then decides from the item DynamoDB returns with a failed condition: its
//! own token means its own write was applied; anything else, after a lost answer, is
//! [`Error::Ambiguous`], because the table cannot tell "never applied" from "applied, then
//! overwritten".

use std::future::Future;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::config::http::HttpResponse;
use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::primitives::Blob;
use aws_sdk_dynamodb::types::AttributeValue;

use crate::error::Error;
use crate::expr::Expr;
use crate::item::Item;
use crate::table::Table;

use crate::WRITE_TOKEN_ATTRIBUTE;

/// One write call: its token, and whether an earlier attempt may have been applied.
#[derive(Debug)]
pub(crate) struct Call {
    token: AttributeValue,
    /// The error of the last attempt whose answer was lost, if any.
    pub lost: Option<aws_sdk_dynamodb::Error>,
}

/// `item` with a call's token added, for a PutItem.
pub(crate) fn with_token(mut item: Item, token: &AttributeValue) -> Item {
    item.insert(WRITE_TOKEN_ATTRIBUTE.to_string(), token.clone());
    item
}

/// What a failed condition means for a write call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// The item holds this call's token: an earlier attempt was applied; a success.
    Own,
    /// An answer was lost and the item holds another write (or there is none): the table
    /// cannot tell whether this call was applied first.
    Unknown,
    /// No attempt can have been applied: the condition's failure is the answer.
    Refused,
}

/// How the next attempt of a write must be sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Resend {
    /// No attempt was applied: the write as it is.
    AsIs,
    /// An attempt may have been applied: the write, unless the item holds this call's
    /// token.
    Guarded,
    /// An attempt may have been applied, and applying twice would count twice: only read
    /// the item back (the condition never holds).
    Probe,
}

impl Call {
    /// A new call with a fresh token.
    pub fn new() -> Self {
        Call {
            token: AttributeValue::B(Blob::new(random_u64().to_be_bytes())),
            lost: None,
        }
    }

    /// The token this call writes.
    pub fn token(&self) -> &AttributeValue {
        &self.token
    }

    /// Whether an attempt's answer was lost, so it may have been applied.
    pub fn maybe_applied(&self) -> bool {
        self.lost.is_some()
    }

    /// How to send the next attempt of a write that accumulates (`true`) or sets state.
    pub fn resend(&self, accumulates: bool) -> Resend {
        match (self.maybe_applied(), accumulates) {
            (false, _) => Resend::AsIs,
            (true, false) => Resend::Guarded,
            (true, true) => Resend::Probe,
        }
    }

    /// Whether `old` (the item a failed condition returned) holds this call's write.
    pub fn is_own(&self, old: Option<&Item>) -> bool {
        old.and_then(|o| o.get(WRITE_TOKEN_ATTRIBUTE)) == Some(&self.token)
    }

    /// What a failed condition means for this call, given the item it returned.
    pub fn verdict(&self, old: Option<&Item>) -> Verdict {
        if self.is_own(old) {
            Verdict::Own
        } else if self.maybe_applied() {
            Verdict::Unknown
        } else {
            Verdict::Refused
        }
    }

    /// [`Error::Ambiguous`] for this call, after a lost answer. `table_checked`: a retry
    /// was answered and found another write's token, or no item (`false`: the retries ran
    /// out before one was answered).
    pub fn ambiguous(
        &mut self,
        entity: &'static str,
        key: String,
        operation: &'static str,
        retry_safe: bool,
        table_checked: bool,
    ) -> Error {
        Error::Ambiguous {
            entity,
            key,
            operation,
            retry_safe,
            table_checked,
            cause: self.lost.take().map(Box::new),
        }
    }
}

/// `condition` as the next attempt of the write with `token` sends it. `None`: no
/// condition.
pub(crate) fn condition(
    token: &AttributeValue,
    expr: &mut Expr,
    condition: Option<String>,
    how: Resend,
) -> Option<String> {
    let extra = match how {
        Resend::AsIs => return condition,
        Resend::Guarded => {
            let n = expr.name(WRITE_TOKEN_ATTRIBUTE);
            let v = expr.value(token.clone());
            format!("(attribute_not_exists({n}) OR {n} <> {v})")
        }
        Resend::Probe => {
            let n = expr.name(WRITE_TOKEN_ATTRIBUTE);
            let v = expr.value(token.clone());
            // Never true: the write is not applied, and the item comes back.
            format!("({n} = {v} AND attribute_not_exists({n}))")
        }
    };
    Some(match condition {
        Some(c) => format!("({c}) AND {extra}"),
        None => extra,
    })
}

/// What a failed attempt says about its write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Fault {
    /// Not applied, and worth another attempt (throttling, a connection never made).
    NotApplied,
    /// The answer was lost: it may have been applied.
    AnswerLost,
    /// Not applied, and another attempt would fail the same way (a failed condition, a
    /// refused request).
    Final,
}

/// DynamoDB's error codes that mean "not applied, try again later".
const THROTTLED: &[&str] = &[
    "ProvisionedThroughputExceededException",
    "ThrottlingException",
    "RequestLimitExceeded",
    "TransactionConflictException",
    "LimitExceededException",
];

/// A transaction resent with its idempotency token while the first send is still running:
/// it may yet be applied.
const IN_PROGRESS: &str = "TransactionInProgressException";

/// Classifies a failed attempt.
pub(crate) fn fault<E: ProvideErrorMetadata>(e: &SdkError<E, HttpResponse>) -> Fault {
    match e {
        SdkError::ConstructionFailure(_) => Fault::Final,
        SdkError::TimeoutError(_) | SdkError::ResponseError(_) => Fault::AnswerLost,
        SdkError::DispatchFailure(d) if d.is_user() => Fault::Final,
        SdkError::DispatchFailure(_) => Fault::AnswerLost,
        SdkError::ServiceError(s) => {
            let code = s.err().code().unwrap_or_default();
            if THROTTLED.contains(&code) {
                Fault::NotApplied
            } else if s.raw().status().is_server_error() || code == IN_PROGRESS {
                // A 500 from DynamoDB may come after the write was applied.
                Fault::AnswerLost
            } else {
                Fault::Final
            }
        }
        _ => Fault::Final,
    }
}

/// Whether a failed write (after the SDK's own retries, for the operations that keep
/// them) may have been applied.
pub(crate) fn answer_lost<E: ProvideErrorMetadata>(e: &SdkError<E, HttpResponse>) -> bool {
    fault(e) == Fault::AnswerLost
}

/// A write's failure other than its condition: [`Error::Ambiguous`] if an attempt's answer
/// was lost (this one's or an earlier one's), else the SDK's error.
pub(crate) fn write_failed<E>(
    call: &mut Call,
    e: ::aws_sdk_dynamodb::error::SdkError<E, ::aws_sdk_dynamodb::config::http::HttpResponse>,
    entity: &'static str,
    key: impl FnOnce() -> String,
    operation: &'static str,
    retry_safe: bool,
) -> Error
where
    E: ::aws_sdk_dynamodb::error::ProvideErrorMetadata,
    ::aws_sdk_dynamodb::Error: From<
        ::aws_sdk_dynamodb::error::SdkError<E, ::aws_sdk_dynamodb::config::http::HttpResponse>,
    >,
{
    if answer_lost(&e) {
        call.lost = Some(e.into());
    } else if !call.maybe_applied() {
        return crate::error::sdk(e);
    }
    call.ambiguous(entity, key(), operation, retry_safe, false)
}

/// A failed transaction: [`Error::Ambiguous`] (not safe to retry: a new call carries a new
/// idempotency token) if its answer was lost after the SDK's retries, which resend the
/// same token and so never apply it twice; else the SDK's error.
pub(crate) fn transaction_failed<E>(e: SdkError<E, HttpResponse>, actions: String) -> Error
where
    E: ProvideErrorMetadata,
    aws_sdk_dynamodb::Error: From<SdkError<E, HttpResponse>>,
{
    if !answer_lost(&e) {
        return crate::error::sdk(e);
    }
    Error::Ambiguous {
        entity: "transaction",
        key: actions,
        operation: "transaction",
        retry_safe: false,
        table_checked: false,
        cause: Some(Box::new(e.into())),
    }
}

/// Sends attempts of one write until one is answered or the client's retry policy (its
/// maximum attempts and backoff) is spent. `send` builds each attempt from how it must
/// be sent and sends it on the given client (the SDK's retries off). The last attempt's
/// result is returned; `call.lost` then tells whether an earlier one may have been applied.
pub(crate) async fn deliver<T, E, F, Fut>(
    db: &Table,
    call: &mut Call,
    accumulates: bool,
    mut send: F,
) -> Result<T, SdkError<E, HttpResponse>>
where
    F: FnMut(Client, Resend) -> Fut,
    Fut: Future<Output = Result<T, SdkError<E, HttpResponse>>>,
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    aws_sdk_dynamodb::Error: From<SdkError<E, HttpResponse>>,
{
    let policy = db.write_retry();
    let mut attempt = 1;
    loop {
        // Boxed: the SDK's request future is several kilobytes, and kept inline it would
        // be copied with every future that holds this one.
        let res = Box::pin(send(db.writer().clone(), call.resend(accumulates))).await;
        let Err(e) = res else { return res };
        let f = fault(&e);
        if f == Fault::Final || attempt >= policy.max_attempts {
            return Err(e);
        }
        if f == Fault::AnswerLost {
            call.lost = Some(e.into());
        }
        policy.sleep(db, attempt).await;
        attempt += 1;
    }
}

/// A random 64-bit number: SipHash, keyed by the standard library's hasher keys (drawn
/// from the operating system once per thread, the first advanced on every use), of a
/// process-wide counter. No two calls of one process hash the same input under the same
/// keys, and other processes have other keys; no dependency is needed.
fn random_u64() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u64(COUNTER.fetch_add(1, Ordering::Relaxed));
    h.finish()
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_dynamodb::operation::put_item::PutItemError;

    fn empty_body() -> aws_smithy_types::body::SdkBody {
        aws_smithy_types::body::SdkBody::empty()
    }

    /// A PutItem failure with DynamoDB's `code` and HTTP `status`.
    fn service(code: &str, status: u16) -> SdkError<PutItemError, HttpResponse> {
        let meta = aws_sdk_dynamodb::error::ErrorMetadata::builder()
            .code(code)
            .build();
        let raw = HttpResponse::new(status.try_into().unwrap(), empty_body());
        SdkError::service_error(PutItemError::generic(meta), raw)
    }

    #[test]
    fn faults_are_classified_by_what_the_attempt_may_have_done() {
        use aws_sdk_dynamodb::config::http::HttpResponse as R;
        use aws_sdk_dynamodb::error::ConnectorError;
        let lost = || -> Vec<SdkError<PutItemError, R>> {
            vec![
                SdkError::timeout_error("slow"),
                SdkError::dispatch_failure(ConnectorError::io("reset".into())),
                SdkError::dispatch_failure(ConnectorError::timeout("read".into())),
                SdkError::response_error(
                    "truncated",
                    R::new(200.try_into().unwrap(), empty_body()),
                ),
                service("InternalServerError", 500),
                service("ServiceUnavailable", 503),
                service(IN_PROGRESS, 400),
            ]
        };
        for e in lost() {
            assert_eq!(fault(&e), Fault::AnswerLost, "{e:?}");
        }
        for code in [
            "ProvisionedThroughputExceededException",
            "ThrottlingException",
        ] {
            assert_eq!(fault(&service(code, 400)), Fault::NotApplied);
        }
        for code in ["ConditionalCheckFailedException", "ValidationException"] {
            assert_eq!(fault(&service(code, 400)), Fault::Final);
        }
        let user = SdkError::<PutItemError, R>::dispatch_failure(ConnectorError::user(
            "bad endpoint".into(),
        ));
        assert_eq!(fault(&user), Fault::Final);
        assert_eq!(
            fault(&SdkError::<PutItemError, R>::construction_failure("x")),
            Fault::Final
        );
    }

    #[test]
    fn resends_follow_what_an_attempt_may_have_done() {
        let mut call = Call::new();
        assert_eq!(call.resend(true), Resend::AsIs);
        call.lost = Some(crate::error::sdk_error_for_tests());
        assert_eq!(call.resend(false), Resend::Guarded);
        assert_eq!(call.resend(true), Resend::Probe);
        let own = with_token(Item::new(), call.token());
        assert!(call.is_own(Some(&own)));
        assert!(!Call::new().is_own(Some(&own)));
        assert!(!call.is_own(None));
    }

    #[test]
    fn tokens_differ() {
        let mut seen = std::collections::HashSet::new();
        for _ in 0..10_000 {
            assert!(seen.insert(random_u64()));
        }
    }

    #[test]
    fn a_probe_condition_keeps_the_callers_condition_and_never_holds() {
        let call = Call::new();
        let t = call.token();
        let mut expr = Expr::default();
        let c = condition(t, &mut expr, Some("a = b".into()), Resend::Probe).unwrap();
        assert_eq!(c, "(a = b) AND (#n0 = :v0 AND attribute_not_exists(#n0))");
        let c = condition(t, &mut expr, None, Resend::Guarded).unwrap();
        assert_eq!(c, "(attribute_not_exists(#n0) OR #n0 <> :v1)");
        assert_eq!(condition(t, &mut expr, None, Resend::AsIs), None);
    }
}

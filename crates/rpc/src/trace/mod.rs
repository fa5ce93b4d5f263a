//! Transaction tracing for the `debug_trace*` methods: geth's trace options
//! ([`TraceOptions`]), the tracers as revm inspectors — the struct logger
//! (geth's default), `callTracer`, `prestateTracer` and `noopTracer` — and
//! [`replay`], which re-executes a block on its parent's state (system calls
//! first, earlier transactions untraced) and traces the transactions asked
//! for, under a deadline and a size cap.

mod call;
mod opcodes;
mod prestate;
pub(crate) mod replay;
mod struct_log;

use crate::{
    error::{ApiError, ApiResult},
    params::{At, kind, type_error},
};
use call::{CallConfig, CallTracer};
use prestate::{PrestateConfig, PrestateTracer};
use revm::{
    Inspector,
    context::ContextTr,
    interpreter::{
        CallInputs, CallOutcome, CreateInputs, CreateOutcome, InstructionResult, Interpreter,
        interpreter::EthInterpreter,
    },
    primitives::{Address, Log, U256},
};
use serde_json::{Map, Value};
use std::time::{Duration, Instant};
use struct_log::{LogConfig, StructLogger};

/// geth's `TraceConfig`, decoded from the method's options argument.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct TraceOptions {
    /// The tracer's name (`None`: the struct logger).
    pub tracer: Option<String>,
    /// The tracer's own options.
    pub tracer_config: Option<Value>,
    /// The struct logger's options.
    pub log: LogConfig,
    /// A Go duration (`"10s"`).
    pub timeout: Option<String>,
}

fn bool_field(value: &Value, structure: &str, field: &str) -> Result<bool, String> {
    value.as_bool().ok_or_else(|| type_error(kind(value), "bool", At::Field(structure, field)))
}

/// The value of `name` in `object`, matched case-insensitively as Go does.
pub(crate) fn field<'a>(object: &'a Map<String, Value>, name: &str) -> Option<&'a Value> {
    object.iter().find(|(key, value)| key.eq_ignore_ascii_case(name) && !value.is_null()).map(|(_, v)| v)
}

impl TraceOptions {
    /// Decodes a `TraceConfig` object (unknown fields are ignored).
    pub(crate) fn parse(value: &Value) -> Result<Self, String> {
        const TY: &str = "TraceConfig";
        let Value::Object(object) = value else {
            return Err(type_error(kind(value), "tracers.TraceConfig", At::Value));
        };
        let flag = |name: &str| field(object, name).map(|v| bool_field(v, TY, name)).transpose();
        let text = |name: &str| {
            field(object, name)
                .map(|v| {
                    v.as_str()
                        .map(str::to_owned)
                        .ok_or_else(|| type_error(kind(v), "string", At::Field(TY, name)))
                })
                .transpose()
        };
        let limit = field(object, "limit")
            .map(|v| {
                v.as_u64()
                    .and_then(|n| usize::try_from(n).ok())
                    .ok_or_else(|| type_error(kind(v), "int", At::Field(TY, "limit")))
            })
            .transpose()?;
        Ok(Self {
            tracer: text("tracer")?,
            tracer_config: field(object, "tracerConfig").cloned(),
            log: LogConfig {
                enable_memory: flag("enableMemory")?.unwrap_or_default(),
                disable_stack: flag("disableStack")?.unwrap_or_default(),
                disable_storage: flag("disableStorage")?.unwrap_or_default(),
                enable_return_data: flag("enableReturnData")?.unwrap_or_default(),
                limit: limit.unwrap_or_default(),
            },
            timeout: text("timeout")?,
        })
    }

    /// The tracer these options ask for.
    pub(crate) fn tracer(&self) -> ApiResult<TracerKind> {
        let config = match &self.tracer_config {
            None => Map::new(),
            Some(Value::Object(object)) => object.clone(),
            Some(other) => {
                return Err(ApiError::server(format!(
                    "json: cannot unmarshal {} into Go value of type map[string]interface {{}}",
                    kind(other)
                )));
            }
        };
        let flag = |structure: &str, name: &str| {
            field(&config, name).map(|v| bool_field(v, structure, name)).transpose().map_err(ApiError::server)
        };
        Ok(match self.tracer.as_deref() {
            None | Some("") => TracerKind::StructLog(self.log),
            Some("callTracer") => {
                const TY: &str = "callTracerConfig";
                TracerKind::Call(CallConfig {
                    only_top_call: flag(TY, "onlyTopCall")?.unwrap_or_default(),
                    with_log: flag(TY, "withLog")?.unwrap_or_default(),
                })
            }
            Some("prestateTracer") => {
                const TY: &str = "prestateTracerConfig";
                TracerKind::Prestate(PrestateConfig {
                    diff_mode: flag(TY, "diffMode")?.unwrap_or_default(),
                    disable_code: flag(TY, "disableCode")?.unwrap_or_default(),
                    disable_storage: flag(TY, "disableStorage")?.unwrap_or_default(),
                    include_empty: flag(TY, "includeEmpty")?.or(flag(TY, "enableEmpty")?).unwrap_or_default(),
                })
            }
            Some("noopTracer") => TracerKind::Noop,
            Some(other) => return Err(ApiError::server(format!("tracer {other:?} is not supported"))),
        })
    }

    /// The wall-clock limit: the requested one, never above `cap`.
    pub(crate) fn timeout(&self, cap: Duration) -> ApiResult<Duration> {
        match &self.timeout {
            None => Ok(cap),
            Some(text) => Ok(parse_duration(text).map_err(ApiError::server)?.min(cap)),
        }
    }
}

/// Go's `time.ParseDuration` for non-negative durations (`"1.5s"`,
/// `"1m30s"`, `"300ms"`).
pub(crate) fn parse_duration(text: &str) -> Result<Duration, String> {
    let invalid = || format!("time: invalid duration {text:?}");
    let mut rest = text.strip_prefix('+').unwrap_or(text);
    if rest == "0" {
        return Ok(Duration::ZERO);
    }
    if rest.is_empty() {
        return Err(invalid());
    }
    let mut total = 0f64;
    while !rest.is_empty() {
        let digits = rest.find(|c: char| !c.is_ascii_digit() && c != '.').ok_or_else(invalid)?;
        let number: f64 = rest[..digits].parse().map_err(|_| invalid())?;
        rest = &rest[digits..];
        let unit_len = rest.find(|c: char| c.is_ascii_digit() || c == '.').unwrap_or(rest.len());
        let scale = match &rest[..unit_len] {
            "ns" => 1e-9,
            "us" | "µs" | "μs" => 1e-6,
            "ms" => 1e-3,
            "s" => 1.0,
            "m" => 60.0,
            "h" => 3600.0,
            _ => return Err(invalid()),
        };
        total += number * scale;
        rest = &rest[unit_len..];
    }
    Duration::try_from_secs_f64(total).map_err(|_| invalid())
}

/// Which tracer runs, with its options.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TracerKind {
    /// geth's default opcode logger.
    StructLog(LogConfig),
    /// `callTracer`.
    Call(CallConfig),
    /// `prestateTracer`.
    Prestate(PrestateConfig),
    /// `noopTracer`: an empty object.
    Noop,
}

/// A tracer at work on one transaction.
#[derive(Debug)]
pub(crate) enum TxTracer {
    /// The struct logger.
    StructLog(Box<StructLogger>),
    /// The call tracer.
    Call(Box<CallTracer>),
    /// The prestate tracer.
    Prestate(PrestateTracer),
    /// Nothing to record.
    Noop,
}

/// Why tracing stopped early.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Stop {
    /// The deadline passed.
    Timeout,
    /// The struct logs outgrew the size cap.
    TooLarge,
}

/// The inspector installed in the EVM: the tracer, plus the deadline and
/// the size cap, which halt execution when they run out.
#[derive(Debug)]
pub(crate) struct Traced {
    pub tracer: TxTracer,
    deadline: Option<Instant>,
    steps: u32,
    pub stopped: Option<Stop>,
}

impl Traced {
    /// `tracer` under `deadline`.
    pub(crate) const fn new(tracer: TxTracer, deadline: Option<Instant>) -> Self {
        Self { tracer, deadline, steps: 0, stopped: None }
    }

    fn check(&mut self) -> Option<Stop> {
        if self.stopped.is_none() {
            if let TxTracer::StructLog(logger) = &self.tracer
                && logger.overflowed()
            {
                self.stopped = Some(Stop::TooLarge);
            }
            self.steps = self.steps.wrapping_add(1);
            if let Some(deadline) = self.deadline
                && self.steps.is_multiple_of(1024)
                && Instant::now() >= deadline
            {
                self.stopped = Some(Stop::Timeout);
            }
        }
        self.stopped
    }
}

/// Runs `$call` on whichever tracer is active.
macro_rules! each {
    ($tracer:expr, $t:ident => $call:expr) => {
        match $tracer {
            TxTracer::StructLog($t) => $call,
            TxTracer::Call($t) => $call,
            TxTracer::Prestate($t) => $call,
            TxTracer::Noop => Default::default(),
        }
    };
}

impl<CTX: ContextTr> Inspector<CTX, EthInterpreter> for Traced {
    fn step(&mut self, interp: &mut Interpreter<EthInterpreter>, context: &mut CTX) {
        if self.check().is_some() {
            // Every frame halts at its next step, so execution unwinds.
            interp.halt(InstructionResult::OutOfGas);
            return;
        }
        each!(&mut self.tracer, t => t.step(interp, context));
    }

    fn step_end(&mut self, interp: &mut Interpreter<EthInterpreter>, context: &mut CTX) {
        each!(&mut self.tracer, t => t.step_end(interp, context));
    }

    fn log(&mut self, context: &mut CTX, log: Log) {
        each!(&mut self.tracer, t => t.log(context, log));
    }

    fn call(&mut self, context: &mut CTX, inputs: &mut CallInputs) -> Option<CallOutcome> {
        each!(&mut self.tracer, t => t.call(context, inputs))
    }

    fn call_end(&mut self, context: &mut CTX, inputs: &CallInputs, outcome: &mut CallOutcome) {
        each!(&mut self.tracer, t => t.call_end(context, inputs, outcome));
    }

    fn create(&mut self, context: &mut CTX, inputs: &mut CreateInputs) -> Option<CreateOutcome> {
        each!(&mut self.tracer, t => t.create(context, inputs))
    }

    fn create_end(&mut self, context: &mut CTX, inputs: &CreateInputs, outcome: &mut CreateOutcome) {
        each!(&mut self.tracer, t => t.create_end(context, inputs, outcome));
    }

    fn selfdestruct(&mut self, contract: Address, target: Address, value: U256) {
        each!(&mut self.tracer, t => Inspector::<CTX, EthInterpreter>::selfdestruct(t, contract, target, value));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn go_durations() {
        assert_eq!(parse_duration("10s"), Ok(Duration::from_secs(10)));
        assert_eq!(parse_duration("1m30s"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_duration("300ms"), Ok(Duration::from_millis(300)));
        assert_eq!(parse_duration("1.5h"), Ok(Duration::from_secs(5400)));
        assert_eq!(parse_duration("0"), Ok(Duration::ZERO));
        assert_eq!(parse_duration("5").unwrap_err(), "time: invalid duration \"5\"");
        assert!(parse_duration("1x").is_err());
        assert!(parse_duration("").is_err());
    }

    #[test]
    fn trace_configs() {
        let options = TraceOptions::parse(&json!({
            "enableMemory": true, "DisableStack": true, "limit": 10,
            "tracer": "callTracer", "tracerConfig": {"onlyTopCall": true}, "timeout": "1s"
        }))
        .unwrap();
        assert!(options.log.enable_memory && options.log.disable_stack && !options.log.disable_storage);
        assert_eq!(options.log.limit, 10);
        assert_eq!(
            options.tracer().unwrap(),
            TracerKind::Call(CallConfig { only_top_call: true, with_log: false })
        );
        assert_eq!(options.timeout(Duration::from_secs(5)).unwrap(), Duration::from_secs(1));
        assert_eq!(options.timeout(Duration::from_millis(10)).unwrap(), Duration::from_millis(10));
        let err = TraceOptions::parse(&json!({"enableMemory": "yes"})).unwrap_err();
        assert_eq!(
            err,
            "json: cannot unmarshal string into Go struct field TraceConfig.enableMemory of type bool"
        );
        let bad = TraceOptions {
            tracer: Some("prestateTracer".into()),
            tracer_config: Some(json!({"diffMode": 1})),
            ..Default::default()
        };
        assert_eq!(
            bad.tracer().unwrap_err().message,
            "json: cannot unmarshal number into Go struct field prestateTracerConfig.diffMode of type bool"
        );
        assert_eq!(TraceOptions::default().tracer().unwrap(), TracerKind::StructLog(LogConfig::default()));
        assert!(TraceOptions { tracer: Some("jsTracer".into()), ..Default::default() }.tracer().is_err());
    }
}

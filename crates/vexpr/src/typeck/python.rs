//! Python's arithmetic on literals.
//!
//! numexpr builds its expression tree by running the string as Python, so an
//! operator whose operands are all literals is computed by Python itself, with
//! Python's unbounded integers and its errors (`1/0` is an error, `2**-1` is
//! `0.5`, `True + True` is `2`), and only the result is typed. The type checker
//! does the same with [`PyValue`].

use crate::syntax::ast::BinaryOp;
use num_complex::Complex64;

/// A Python number (integers as `i128`; beyond that Python would still go on,
/// and we report an overflow instead).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum PyValue {
    /// `True` / `False`
    Bool(bool),
    /// `int`
    Int(i128),
    /// `float`
    Float(f64),
    /// `complex`
    Complex(Complex64),
}

use PyValue::{Bool, Complex, Float, Int};

type PyResult = Result<PyValue, String>;

impl PyValue {
    fn as_int(self) -> Option<i128> {
        match self {
            Bool(b) => Some(i128::from(b)),
            Int(i) => Some(i),
            _ => None,
        }
    }

    /// The value as a float, if it is real.
    pub fn as_f64(self) -> Option<f64> {
        match self {
            Bool(b) => Some(f64::from(u8::from(b))),
            Int(i) => Some(i as f64),
            Float(f) => Some(f),
            Complex(_) => None,
        }
    }

    fn as_complex(self) -> Complex64 {
        match self {
            Complex(c) => c,
            other => Complex64::new(other.as_f64().unwrap_or(f64::NAN), 0.0),
        }
    }

    /// `-x`
    pub fn neg(self) -> PyResult {
        Ok(match self {
            Bool(_) | Int(_) => Int(self
                .as_int()
                .unwrap_or(0)
                .checked_neg()
                .ok_or_else(overflow)?),
            Float(f) => Float(-f),
            Complex(c) => Complex(-c),
        })
    }

    /// `~x`
    pub fn invert(self) -> PyResult {
        match self.as_int() {
            Some(i) => Ok(Int(!i)),
            None => Err("bad operand type for unary ~: 'float' or 'complex'".into()),
        }
    }

    /// `self OP other`.
    pub fn binary(self, op: BinaryOp, other: PyValue) -> PyResult {
        use BinaryOp::*;
        match op {
            Lt | Le | Eq | Ne | Ge | Gt => self.compare(op, other),
            And | Or | Xor => match (self, other) {
                (Bool(a), Bool(b)) => Ok(Bool(match op {
                    And => a & b,
                    Or => a | b,
                    _ => a ^ b,
                })),
                _ => {
                    let (a, b) = self.ints(other, op)?;
                    Ok(Int(match op {
                        And => a & b,
                        Or => a | b,
                        _ => a ^ b,
                    }))
                }
            },
            Shl | Shr => {
                let (a, b) = self.ints(other, op)?;
                if b < 0 {
                    return Err("negative shift count".into());
                }
                if op == Shr {
                    return Ok(Int(if b >= 127 {
                        if a < 0 { -1 } else { 0 }
                    } else {
                        a >> b
                    }));
                }
                if a == 0 {
                    return Ok(Int(0));
                }
                let shifted = u32::try_from(b)
                    .ok()
                    .and_then(|b| a.checked_mul(1i128.checked_shl(b)?));
                shifted.map(Int).ok_or_else(overflow)
            }
            _ => self.arithmetic(op, other),
        }
    }

    fn ints(self, other: PyValue, op: BinaryOp) -> Result<(i128, i128), String> {
        match (self.as_int(), other.as_int()) {
            (Some(a), Some(b)) => Ok((a, b)),
            _ => Err(format!(
                "unsupported operand types for {op:?}: floats and complex numbers have no bits"
            )),
        }
    }

    fn compare(self, op: BinaryOp, other: PyValue) -> PyResult {
        use std::cmp::Ordering;
        let ordering = match (self, other) {
            (Complex(_), _) | (_, Complex(_)) => {
                let equal = self.as_complex() == other.as_complex();
                return match op {
                    BinaryOp::Eq => Ok(Bool(equal)),
                    BinaryOp::Ne => Ok(Bool(!equal)),
                    _ => Err("complex numbers are not ordered".into()),
                };
            }
            _ => match (self.as_int(), other.as_int()) {
                (Some(a), Some(b)) => Some(a.cmp(&b)),
                _ => self
                    .as_f64()
                    .unwrap_or(f64::NAN)
                    .partial_cmp(&other.as_f64().unwrap_or(f64::NAN)),
            },
        };
        Ok(Bool(match (op, ordering) {
            (BinaryOp::Ne, None) => true,
            (_, None) => false,
            (BinaryOp::Lt, Some(o)) => o == Ordering::Less,
            (BinaryOp::Le, Some(o)) => o != Ordering::Greater,
            (BinaryOp::Eq, Some(o)) => o == Ordering::Equal,
            (BinaryOp::Ne, Some(o)) => o != Ordering::Equal,
            (BinaryOp::Ge, Some(o)) => o != Ordering::Less,
            (BinaryOp::Gt, Some(o)) => o == Ordering::Greater,
            _ => unreachable!("only comparisons reach here"),
        }))
    }

    fn arithmetic(self, op: BinaryOp, other: PyValue) -> PyResult {
        use BinaryOp::*;
        if let (Some(a), Some(b)) = (self.as_int(), other.as_int()) {
            return match op {
                Add => a.checked_add(b).map(Int).ok_or_else(overflow),
                Sub => a.checked_sub(b).map(Int).ok_or_else(overflow),
                Mul => a.checked_mul(b).map(Int).ok_or_else(overflow),
                Div if b == 0 => Err(zero_division()),
                Div => Ok(Float(a as f64 / b as f64)),
                FloorDiv | Mod if b == 0 => Err(zero_division()),
                FloorDiv => Ok(Int(
                    a.div_euclid(b) - i128::from(b < 0 && a.rem_euclid(b) != 0)
                )),
                Mod => {
                    let r = a.rem_euclid(b);
                    Ok(Int(if b < 0 && r != 0 { r + b } else { r }))
                }
                Pow if b < 0 && a == 0 => Err(zero_division()),
                Pow if b < 0 => Ok(Float((a as f64).powf(b as f64))),
                Pow => u32::try_from(b)
                    .ok()
                    .and_then(|b| a.checked_pow(b))
                    .map(Int)
                    .ok_or_else(overflow),
                _ => unreachable!("handled by the caller"),
            };
        }
        if let (Some(a), Some(b)) = (self.as_f64(), other.as_f64()) {
            return match op {
                Add => Ok(Float(a + b)),
                Sub => Ok(Float(a - b)),
                Mul => Ok(Float(a * b)),
                Div | FloorDiv | Mod if b == 0.0 => Err(zero_division()),
                Div => Ok(Float(a / b)),
                FloorDiv => Ok(Float(crate::kernels::arith::floordiv_f64(a, b))),
                Mod => Ok(Float(crate::kernels::arith::mod_f64(a, b))),
                Pow if a == 0.0 && b < 0.0 => Err(zero_division()),
                // Python gives a complex number for a negative base and a fractional power.
                Pow if a < 0.0 && b.fract() != 0.0 => Ok(Complex(Complex64::new(a, 0.0).powf(b))),
                Pow => Ok(Float(a.powf(b))),
                _ => unreachable!("handled by the caller"),
            };
        }
        let (a, b) = (self.as_complex(), other.as_complex());
        match op {
            Add => Ok(Complex(a + b)),
            Sub => Ok(Complex(a - b)),
            Mul => Ok(Complex(a * b)),
            Div if b == Complex64::new(0.0, 0.0) => Err(zero_division()),
            Div => Ok(Complex(a / b)),
            Pow if a == Complex64::new(0.0, 0.0) => {
                Ok(Complex(if b == a { Complex64::new(1.0, 0.0) } else { a }))
            }
            Pow => Ok(Complex(a.powc(b))),
            _ => Err("complex numbers have no floor division or modulo".into()),
        }
    }
}

fn overflow() -> String {
    "integer constant too large (the result of this constant arithmetic does not fit in 128 bits)"
        .into()
}

fn zero_division() -> String {
    "division by zero in constant arithmetic".into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn python_semantics() {
        assert_eq!(Bool(true).binary(BinaryOp::Add, Bool(true)), Ok(Int(2)));
        assert_eq!(
            Bool(true).binary(BinaryOp::And, Bool(false)),
            Ok(Bool(false))
        );
        assert_eq!(Bool(true).invert(), Ok(Int(-2)));
        assert_eq!(Int(2).binary(BinaryOp::Pow, Int(-1)), Ok(Float(0.5)));
        assert_eq!(Int(-7).binary(BinaryOp::FloorDiv, Int(2)), Ok(Int(-4)));
        assert_eq!(Int(-7).binary(BinaryOp::Mod, Int(2)), Ok(Int(1)));
        assert_eq!(Int(7).binary(BinaryOp::Mod, Int(-2)), Ok(Int(-1)));
        assert!(Int(1).binary(BinaryOp::Div, Int(0)).is_err());
        assert!(Float(1.0).binary(BinaryOp::Div, Float(0.0)).is_err());
        assert_eq!(
            Int(2147483647).binary(BinaryOp::Add, Int(1)),
            Ok(Int(2147483648))
        );
        assert_eq!(Int(1).binary(BinaryOp::Lt, Float(1.5)), Ok(Bool(true)));
    }
}

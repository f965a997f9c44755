! latens_gp: one-dimensional Gaussian processes in linear time (include/latens/gp.h).
!
! A kernel is a sum of (Hida-)Matérn terms ("matern32", "matern52,hida-matern", ...); a
! series is y(i) = f(t(i)) + noise, t non-decreasing, NaN in y for a missing value.  The
! model is zero-mean: subtract a mean first.  Hyperparameters are numbered term by term
! (variance, lengthscale, frequency for Hida terms); param_name(i) is 1-based.
module latens_gp
  use, intrinsic :: iso_c_binding
  use latens_core
  implicit none
  private

  integer, parameter, public :: LATENS_GP_MATERN12 = 0, LATENS_GP_MATERN32 = 1, &
       LATENS_GP_MATERN52 = 2, LATENS_GP_MATERN72 = 3, LATENS_GP_HIDA12 = 4, &
       LATENS_GP_HIDA32 = 5, LATENS_GP_HIDA52 = 6, LATENS_GP_HIDA72 = 7

  type, bind(c), public :: latens_gp_term
     integer(c_int) :: kind = LATENS_GP_MATERN32
     real(c_double) :: variance = 1, lengthscale = 1, frequency = 0
  end type latens_gp_term

  type, bind(c) :: progress_c
     type(c_funptr) :: fn = c_null_funptr
     type(c_ptr) :: user = c_null_ptr
  end type progress_c

  ! latens_gp_fit_options (defaults from latens_gp_fit_options_default()).
  type, bind(c), public :: latens_gp_fit_options
     integer(c_int) :: whittle = 0, init_from_data = 1
     real(c_double) :: noise = transfer(9221120237041090560_c_int64_t, 1d0) ! NaN: from the data
     integer(c_int) :: fit_noise = 1
     integer(c_size_t) :: max_iter = 300
     type(progress_c) :: progress
  end type latens_gp_fit_options

  type, bind(c), public :: latens_gp_fit_result
     real(c_double) :: loglik = 0, noise = 0
     integer(c_size_t) :: iterations = 0
     integer(c_int) :: converged = 0
  end type latens_gp_fit_result

  type, bind(c) :: series_c
     integer(c_size_t) :: n = 0
     type(c_ptr) :: t = c_null_ptr, y = c_null_ptr, noise_var = c_null_ptr
  end type series_c

  ! A kernel handle; assignment clones it.
  type, public :: latens_gp_kernel
     type(c_ptr) :: handle = c_null_ptr
   contains
     procedure :: parse => kernel_parse
     procedure :: create => kernel_create
     procedure :: nparams => kernel_nparams
     procedure :: param_name => kernel_param_name
     procedure :: get_params => kernel_get_params
     procedure :: set_params => kernel_set_params
     procedure :: eval => kernel_eval
     procedure :: free => kernel_free
     generic :: assignment(=) => kernel_assign
     procedure, private :: kernel_assign
     final :: kernel_final
  end type latens_gp_kernel

  public :: latens_gp_fit_options_default, latens_gp_loglik, latens_gp_posterior, latens_gp_fit
  public :: latens_gp_sample

  interface
     function c_kernel_parse(spec) bind(c, name='latens_gp_kernel_parse')
       import :: c_ptr, c_char
       character(kind=c_char), intent(in) :: spec(*)
       type(c_ptr) :: c_kernel_parse
     end function c_kernel_parse
     function c_kernel_alloc(terms, n) bind(c, name='latens_gp_kernel_alloc')
       import :: c_ptr, c_size_t, latens_gp_term
       type(latens_gp_term), intent(in) :: terms(*)
       integer(c_size_t), value :: n
       type(c_ptr) :: c_kernel_alloc
     end function c_kernel_alloc
     function c_kernel_clone(k) bind(c, name='latens_gp_kernel_clone')
       import :: c_ptr
       type(c_ptr), value :: k
       type(c_ptr) :: c_kernel_clone
     end function c_kernel_clone
     subroutine c_kernel_free(k) bind(c, name='latens_gp_kernel_free')
       import :: c_ptr
       type(c_ptr), value :: k
     end subroutine c_kernel_free
     function c_kernel_nparams(k) bind(c, name='latens_gp_kernel_nparams')
       import :: c_ptr, c_size_t
       type(c_ptr), value :: k
       integer(c_size_t) :: c_kernel_nparams
     end function c_kernel_nparams
     function c_kernel_param_name(k, i) bind(c, name='latens_gp_kernel_param_name')
       import :: c_ptr, c_size_t
       type(c_ptr), value :: k
       integer(c_size_t), value :: i
       type(c_ptr) :: c_kernel_param_name
     end function c_kernel_param_name
     function c_kernel_get_params(k, theta) bind(c, name='latens_gp_kernel_get_params')
       import :: c_ptr, c_double, c_int
       type(c_ptr), value :: k
       real(c_double), intent(out) :: theta(*)
       integer(c_int) :: c_kernel_get_params
     end function c_kernel_get_params
     function c_kernel_set_params(k, theta) bind(c, name='latens_gp_kernel_set_params')
       import :: c_ptr, c_double, c_int
       type(c_ptr), value :: k
       real(c_double), intent(in) :: theta(*)
       integer(c_int) :: c_kernel_set_params
     end function c_kernel_set_params
     function c_kernel_eval(k, tau, value) bind(c, name='latens_gp_kernel_eval')
       import :: c_ptr, c_double, c_int
       type(c_ptr), value :: k
       real(c_double), value :: tau
       real(c_double), intent(out) :: value
       integer(c_int) :: c_kernel_eval
     end function c_kernel_eval
     subroutine c_fit_options_default(opt) bind(c, name='latens_gp_fit_options_default')
       import :: latens_gp_fit_options
       type(latens_gp_fit_options), intent(out) :: opt
     end subroutine c_fit_options_default
     function c_loglik(k, noise, series, ntrials, loglik, grad) bind(c, name='latens_gp_loglik')
       import :: c_ptr, c_double, c_size_t, c_int, series_c
       type(c_ptr), value :: k
       real(c_double), value :: noise
       type(series_c), intent(in) :: series
       integer(c_size_t), value :: ntrials
       real(c_double), intent(out) :: loglik
       type(c_ptr), value :: grad
       integer(c_int) :: c_loglik
     end function c_loglik
     function c_posterior(k, noise, series, tq, nq, mean, var) bind(c, name='latens_gp_posterior')
       import :: c_ptr, c_double, c_size_t, c_int, series_c
       type(c_ptr), value :: k
       real(c_double), value :: noise
       type(series_c), intent(in) :: series
       type(c_ptr), value :: tq
       integer(c_size_t), value :: nq
       real(c_double), intent(out) :: mean(*)
       type(c_ptr), value :: var
       integer(c_int) :: c_posterior
     end function c_posterior
     function c_fit(k, series, ntrials, opt, result) bind(c, name='latens_gp_fit')
       import :: c_ptr, c_size_t, c_int, series_c, latens_gp_fit_options, latens_gp_fit_result
       type(c_ptr), value :: k
       type(series_c), intent(in) :: series
       integer(c_size_t), value :: ntrials
       type(latens_gp_fit_options), intent(in) :: opt
       type(latens_gp_fit_result), intent(out) :: result
       integer(c_int) :: c_fit
     end function c_fit
     function c_sample(k, rng, t, n, f) bind(c, name='latens_gp_sample')
       import :: c_ptr, c_double, c_size_t, c_int
       type(c_ptr), value :: k, rng
       real(c_double), intent(in) :: t(*)
       integer(c_size_t), value :: n
       real(c_double), intent(out) :: f(*)
       integer(c_int) :: c_sample
     end function c_sample
  end interface

contains

  function latens_gp_fit_options_default() result(opt)
    type(latens_gp_fit_options) :: opt
    call c_fit_options_default(opt)
  end function latens_gp_fit_options_default

  ! ------------------------------------------------------------------ kernels

  !> A kernel from a comma-separated list of kinds ("matern32,hida-matern"), every term
  !> with variance 1, lengthscale 1 (frequency 1 for Hida terms).
  subroutine kernel_parse(self, spec, stat)
    class(latens_gp_kernel), intent(inout) :: self
    character(*), intent(in) :: spec
    integer, intent(out), optional :: stat
    integer(c_int) :: status
    call latens_f_begin(stat)
    call self%free()
    self%handle = c_kernel_parse(latens_c_string(spec))
    status = LATENS_OK
    if (.not. c_associated(self%handle)) status = int(max(latens_last_error_status(), 1), c_int)
    call latens_f_end(status, stat, 'latens_gp_kernel%parse')
  end subroutine kernel_parse

  !> A kernel from explicit terms (kind, variance, lengthscale, frequency).
  subroutine kernel_create(self, terms, stat)
    class(latens_gp_kernel), intent(inout) :: self
    type(latens_gp_term), intent(in) :: terms(:)
    integer, intent(out), optional :: stat
    integer(c_int) :: status
    call latens_f_begin(stat)
    call self%free()
    if (size(terms) < 1) then
       status = latens_f_fail(LATENS_EINVAL, 'latens_gp_kernel%create: no terms')
    else
       self%handle = c_kernel_alloc(terms, size(terms, kind=c_size_t))
       status = LATENS_OK
       if (.not. c_associated(self%handle)) status = int(max(latens_last_error_status(), 1), c_int)
    end if
    call latens_f_end(status, stat, 'latens_gp_kernel%create')
  end subroutine kernel_create

  integer function kernel_nparams(self)
    class(latens_gp_kernel), intent(in) :: self
    kernel_nparams = 0
    if (c_associated(self%handle)) kernel_nparams = int(c_kernel_nparams(self%handle))
  end function kernel_nparams

  !> Name of hyperparameter i (1-based): "variance", "lengthscale1", ...; '' out of range.
  function kernel_param_name(self, i) result(name)
    class(latens_gp_kernel), intent(in) :: self
    integer, intent(in) :: i
    character(:), allocatable :: name
    name = ''
    if (c_associated(self%handle) .and. i >= 1) &
         name = latens_f_string(c_kernel_param_name(self%handle, int(i - 1, c_size_t)))
  end function kernel_param_name

  !> theta(1:nparams) <- the hyperparameters (natural scale).
  subroutine kernel_get_params(self, theta, stat)
    class(latens_gp_kernel), intent(in) :: self
    real(c_double), intent(out), contiguous :: theta(:)
    integer, intent(out), optional :: stat
    integer(c_int) :: status
    call latens_f_begin(stat)
    if (.not. c_associated(self%handle)) then
       status = latens_f_fail(LATENS_EINVAL, 'latens_gp_kernel%get_params: no kernel')
    else if (size(theta) /= self%nparams()) then
       status = latens_f_fail(LATENS_EBADLEN, 'latens_gp_kernel%get_params: size(theta) /= nparams')
    else
       status = c_kernel_get_params(self%handle, theta)
    end if
    call latens_f_end(status, stat, 'latens_gp_kernel%get_params')
  end subroutine kernel_get_params

  !> Set every hyperparameter (checked; nothing changes on error).
  subroutine kernel_set_params(self, theta, stat)
    class(latens_gp_kernel), intent(inout) :: self
    real(c_double), intent(in), contiguous :: theta(:)
    integer, intent(out), optional :: stat
    integer(c_int) :: status
    call latens_f_begin(stat)
    if (.not. c_associated(self%handle)) then
       status = latens_f_fail(LATENS_EINVAL, 'latens_gp_kernel%set_params: no kernel')
    else if (size(theta) /= self%nparams()) then
       status = latens_f_fail(LATENS_EBADLEN, 'latens_gp_kernel%set_params: size(theta) /= nparams')
    else
       status = c_kernel_set_params(self%handle, theta)
    end if
    call latens_f_end(status, stat, 'latens_gp_kernel%set_params')
  end subroutine kernel_set_params

  !> k(tau).
  real(c_double) function kernel_eval(self, tau, stat)
    class(latens_gp_kernel), intent(in) :: self
    real(c_double), intent(in) :: tau
    integer, intent(out), optional :: stat
    integer(c_int) :: status
    call latens_f_begin(stat)
    kernel_eval = ieee_nan()
    if (.not. c_associated(self%handle)) then
       status = latens_f_fail(LATENS_EINVAL, 'latens_gp_kernel%eval: no kernel')
    else
       status = c_kernel_eval(self%handle, tau, kernel_eval)
    end if
    call latens_f_end(status, stat, 'latens_gp_kernel%eval')
  end function kernel_eval

  subroutine kernel_free(self)
    class(latens_gp_kernel), intent(inout) :: self
    call c_kernel_free(self%handle)
    self%handle = c_null_ptr
  end subroutine kernel_free

  subroutine kernel_final(self)
    type(latens_gp_kernel), intent(inout) :: self
    call self%free()
  end subroutine kernel_final

  subroutine kernel_assign(lhs, rhs)
    class(latens_gp_kernel), intent(inout) :: lhs
    class(latens_gp_kernel), intent(in) :: rhs
    if (c_associated(lhs%handle, rhs%handle)) return
    call lhs%free()
    if (.not. c_associated(rhs%handle)) return
    lhs%handle = c_kernel_clone(rhs%handle)
    if (.not. c_associated(lhs%handle)) error stop 'latens: latens_gp_kernel assignment failed'
  end subroutine kernel_assign

  ! ------------------------------------------------------------------ inference

  real(c_double) function ieee_nan()
    use, intrinsic :: ieee_arithmetic, only: ieee_value, ieee_quiet_nan
    ieee_nan = ieee_value(1d0, ieee_quiet_nan)
  end function ieee_nan

  ! The C series over t, y (and optional per-point noise variances); checks the shapes.
  integer(c_int) function make_series(k, t, y, noise_var, what, s) result(status)
    type(latens_gp_kernel), intent(in) :: k
    real(c_double), intent(in), contiguous, target :: t(:), y(:)
    real(c_double), intent(in), contiguous, target, optional :: noise_var(:)
    character(*), intent(in) :: what
    type(series_c), intent(out) :: s
    status = LATENS_OK
    if (.not. c_associated(k%handle)) then
       status = latens_f_fail(LATENS_EINVAL, what // ': no kernel')
    else if (size(t) /= size(y)) then
       status = latens_f_fail(LATENS_EBADLEN, what // ': size(t) /= size(y)')
    else
       s%n = size(t, kind=c_size_t)
       if (s%n > 0) then
          s%t = c_loc(t)
          s%y = c_loc(y)
       end if
       if (present(noise_var)) then
          if (size(noise_var) /= size(t)) then
             status = latens_f_fail(LATENS_EBADLEN, what // ': size(noise_var) /= size(t)')
          else if (s%n > 0) then
             s%noise_var = c_loc(noise_var)
          end if
       end if
    end if
  end function make_series

  !> The exact log marginal likelihood (nats) of y observed at t; grad (optional):
  !> nparams + 1 entries, d loglik / d theta then d / d noise.
  subroutine latens_gp_loglik(k, noise, t, y, loglik, grad, noise_var, stat)
    type(latens_gp_kernel), intent(in) :: k
    real(c_double), intent(in) :: noise
    real(c_double), intent(in), contiguous, target :: t(:), y(:)
    real(c_double), intent(out) :: loglik
    real(c_double), intent(out), contiguous, target, optional :: grad(:)
    real(c_double), intent(in), contiguous, target, optional :: noise_var(:)
    integer, intent(out), optional :: stat
    type(series_c) :: s
    type(c_ptr) :: pg
    integer(c_int) :: status
    call latens_f_begin(stat)
    loglik = ieee_nan()
    status = make_series(k, t, y, noise_var, 'latens_gp_loglik', s)
    pg = c_null_ptr
    if (status == LATENS_OK .and. present(grad)) then
       if (size(grad) /= k%nparams() + 1) then
          status = latens_f_fail(LATENS_EBADLEN, 'latens_gp_loglik: size(grad) /= nparams + 1')
       else
          pg = c_loc(grad)
       end if
    end if
    if (status == LATENS_OK) status = c_loglik(k%handle, noise, s, 1_c_size_t, loglik, pg)
    call latens_f_end(status, stat, 'latens_gp_loglik')
  end subroutine latens_gp_loglik

  !> Posterior mean (and variance) of the latent f, noise excluded: at the query times tq
  !> when given (any order), else at t.  mean and var have size(tq) or size(t) entries.
  subroutine latens_gp_posterior(k, noise, t, y, mean, var, tq, noise_var, stat)
    type(latens_gp_kernel), intent(in) :: k
    real(c_double), intent(in) :: noise
    real(c_double), intent(in), contiguous, target :: t(:), y(:)
    real(c_double), intent(out), contiguous :: mean(:)
    real(c_double), intent(out), contiguous, target, optional :: var(:)
    real(c_double), intent(in), contiguous, target, optional :: tq(:)
    real(c_double), intent(in), contiguous, target, optional :: noise_var(:)
    integer, intent(out), optional :: stat
    type(series_c) :: s
    type(c_ptr) :: pq, pv
    integer(c_size_t) :: nq
    integer(c_int) :: status
    call latens_f_begin(stat)
    status = make_series(k, t, y, noise_var, 'latens_gp_posterior', s)
    pq = c_null_ptr
    pv = c_null_ptr
    nq = size(t, kind=c_size_t)
    if (present(tq)) then
       nq = size(tq, kind=c_size_t)
       if (nq > 0) pq = c_loc(tq)
    end if
    if (status == LATENS_OK .and. size(mean, kind=c_size_t) /= nq) status = latens_f_fail( &
         LATENS_EBADLEN, 'latens_gp_posterior: size(mean) must be size(tq), or size(t) without tq')
    if (status == LATENS_OK .and. present(var)) then
       if (size(var, kind=c_size_t) /= nq) then
          status = latens_f_fail(LATENS_EBADLEN, 'latens_gp_posterior: size(var) /= size(mean)')
       else if (nq > 0) then
          pv = c_loc(var)
       end if
    end if
    if (status == LATENS_OK .and. present(tq) .and. nq == 0) then
       continue ! nothing to compute
    else if (status == LATENS_OK) then
       status = c_posterior(k%handle, noise, s, pq, nq, mean, pv)
    end if
    call latens_f_end(status, stat, 'latens_gp_posterior')
  end subroutine latens_gp_posterior

  !> Maximise the log marginal likelihood over the hyperparameters (and the noise variance):
  !> k receives the fitted hyperparameters, result the noise variance, loglik, iterations
  !> and convergence flag.  opt: latens_gp_fit_options_default() unless given.
  subroutine latens_gp_fit(k, t, y, result, opt, noise_var, stat)
    type(latens_gp_kernel), intent(inout) :: k
    real(c_double), intent(in), contiguous, target :: t(:), y(:)
    type(latens_gp_fit_result), intent(out) :: result
    type(latens_gp_fit_options), intent(in), optional :: opt
    real(c_double), intent(in), contiguous, target, optional :: noise_var(:)
    integer, intent(out), optional :: stat
    type(series_c) :: s
    type(latens_gp_fit_options) :: o
    integer(c_int) :: status
    call latens_f_begin(stat)
    status = make_series(k, t, y, noise_var, 'latens_gp_fit', s)
    if (present(opt)) then
       o = opt
    else
       call c_fit_options_default(o)
    end if
    if (status == LATENS_OK) status = c_fit(k%handle, s, 1_c_size_t, o, result)
    call latens_f_end(status, stat, 'latens_gp_fit')
  end subroutine latens_gp_fit

  !> An exact draw of f at the non-decreasing times t from the prior.
  subroutine latens_gp_sample(k, rng, t, f, stat)
    type(latens_gp_kernel), intent(in) :: k
    type(latens_rng), intent(inout) :: rng
    real(c_double), intent(in), contiguous :: t(:)
    real(c_double), intent(out), contiguous :: f(:)
    integer, intent(out), optional :: stat
    integer(c_int) :: status
    call latens_f_begin(stat)
    if (.not. c_associated(k%handle) .or. .not. c_associated(rng%handle)) then
       status = latens_f_fail(LATENS_EINVAL, 'latens_gp_sample: no kernel or rng')
    else if (size(f) /= size(t)) then
       status = latens_f_fail(LATENS_EBADLEN, 'latens_gp_sample: size(f) /= size(t)')
    else if (size(t) == 0) then
       status = LATENS_OK
    else
       status = c_sample(k%handle, rng%handle, t, size(t, kind=c_size_t), f)
    end if
    call latens_f_end(status, stat, 'latens_gp_sample')
  end subroutine latens_gp_sample

end module latens_gp

! latens_sde: stochastic differential equations (include/latens/sde.h) from Fortran.
!
!   dX = f(t, X; theta) dt + g(t, X; theta) dW
!
! A model is a built-in ("gbm", "ou", ...) or the user's own drift and diffusion, given
! either as Fortran procedures with the interfaces latens_sde_drift / latens_sde_diffusion
! (assumed-shape arrays, any class(*) data; the module's bind(c) trampolines call them), or
! as bind(c) procedures with the C signature (latens_sde_drift_c, passed with c_funloc).
! Ensembles call the callbacks from several OpenMP threads at once: they must be reentrant
! (no SAVEd variables; compile with -frecursive or -fopenmp so locals live on the stack).
! Paths are column-major as in C: x(i, k) is component i at output time t(k); ensembles
! are x(d, nt, npaths).
module latens_sde
  use, intrinsic :: iso_c_binding
  use latens_core
  implicit none
  private

  integer, parameter, public :: LATENS_SDE_NOISE_DIAGONAL = 0, LATENS_SDE_NOISE_SCALAR = 1, &
       LATENS_SDE_NOISE_ADDITIVE = 2, LATENS_SDE_NOISE_GENERAL = 3
  integer, parameter, public :: LATENS_SDE_ITO = 0, LATENS_SDE_STRATONOVICH = 1
  integer, parameter, public :: LATENS_SDE_EM = 0, LATENS_SDE_MILSTEIN = 1, LATENS_SDE_SRI = 2, &
       LATENS_SDE_SRA = 3, LATENS_SDE_HEUN = 4, LATENS_SDE_IMPLICIT_EM = 5
  ! options%rng: the streams ensemble paths draw from (latens/rng.h)
  integer, parameter, public :: LATENS_SDE_RNG_PHILOX = 0, LATENS_SDE_RNG_FAST = 1

  ! latens_sde_options (get the defaults from latens_sde_options_default()).
  type, bind(c), public :: latens_sde_options
     integer(c_int) :: scheme = LATENS_SDE_EM
     real(c_double) :: dt = 1d-3
     integer(c_int) :: adaptive = 0
     real(c_double) :: abstol = 1d-3, reltol = 1d-3, delta = 1d0 / 6
     real(c_double) :: dtmax = huge(1d0)
     integer(c_int) :: max_depth = 40
     integer(c_size_t) :: max_steps = 10000000_c_size_t
     real(c_double) :: newton_tol = 1d-10
     integer(c_int) :: newton_maxiter = 20
     integer(c_int) :: threads = 0
     integer(c_int) :: rng = LATENS_SDE_RNG_PHILOX
  end type latens_sde_options

  type, bind(c), public :: latens_sde_stats
     integer(c_size_t) :: steps = 0, rejected = 0, f_evals = 0, g_evals = 0
     real(c_double) :: min_step = 0, max_step = 0
  end type latens_sde_stats

  ! The C struct latens_sde_model (fields the bindings write: callbacks, user, x0).
  type, bind(c) :: sde_model_c
     integer(c_size_t) :: d, m
     integer(c_int) :: noise, calculus
     integer(c_size_t) :: ntheta
     type(c_ptr) :: theta, theta_lo, theta_hi, theta_name, x0
     type(c_funptr) :: drift, diffusion, both, drift_jac, diffusion_deriv, linear
     type(c_ptr) :: user
     character(kind=c_char) :: name(64)
     type(c_ptr) :: priv
     type(c_funptr) :: priv_free
  end type sde_model_c

  abstract interface
     !> The user's drift: f <- f(t, x; theta) (d values).  Set stat non-zero to stop the
     !> solver (a LATENS_* code is passed on; anything else becomes LATENS_EFAILED).
     subroutine latens_sde_drift(t, x, theta, f, data, stat)
       import :: c_double
       real(c_double), intent(in) :: t, x(:), theta(:)
       real(c_double), intent(out) :: f(:)
       class(*), intent(in) :: data
       integer, intent(inout) :: stat
     end subroutine latens_sde_drift
     !> The user's diffusion: g in the layout of the model's noise kind (d values for
     !> diagonal and scalar noise, d*m column-major for additive and general noise).
     subroutine latens_sde_diffusion(t, x, theta, g, data, stat)
       import :: c_double
       real(c_double), intent(in) :: t, x(:), theta(:)
       real(c_double), intent(out) :: g(:)
       class(*), intent(in) :: data
       integer, intent(inout) :: stat
     end subroutine latens_sde_diffusion
     !> The C signature (latens_sde_drift_fn, latens_sde_diffusion_fn), for bind(c) procedures
     !> passed with c_funloc to set_callbacks_c: out is f or g, user the model's user pointer.
     integer(c_int) function latens_sde_drift_c(t, x, theta, user, out) bind(c)
       import :: c_int, c_double, c_ptr
       real(c_double), value :: t
       real(c_double), intent(in) :: x(*), theta(*)
       type(c_ptr), value :: user
       real(c_double), intent(inout) :: out(*)
     end function latens_sde_drift_c
  end interface
  public :: latens_sde_drift, latens_sde_diffusion, latens_sde_drift_c

  ! What the trampolines need; allocated once per model so its address is stable.
  type :: sde_callbacks
     procedure(latens_sde_drift), pointer, nopass :: drift => null()
     procedure(latens_sde_diffusion), pointer, nopass :: diffusion => null()
     class(*), allocatable :: data
     integer :: d = 0, ntheta = 0, glen = 0
  end type sde_callbacks

  ! A model handle.  Not copyable (assignment stops the program): pass it by reference.
  type, public :: latens_sde_model
     type(c_ptr) :: handle = c_null_ptr
     type(sde_callbacks), pointer, private :: cb => null()
   contains
     procedure :: builtin => model_builtin
     procedure :: create => model_create
     procedure :: set_callbacks => model_set_callbacks
     procedure :: set_callbacks_c => model_set_callbacks_c
     procedure :: set_param => model_set_param
     procedure :: set_params => model_set_params
     procedure :: set_x0 => model_set_x0
     procedure :: set_calculus => model_set_calculus
     procedure :: dim => model_dim
     procedure :: nbrownian => model_nbrownian
     procedure :: nparams => model_nparams
     procedure :: free => model_free
     generic :: assignment(=) => model_assign
     procedure, private :: model_assign
     final :: model_final
  end type latens_sde_model

  public :: latens_sde_options_default, latens_sde_solve, latens_sde_ensemble
  public :: latens_sde_ensemble_summary

  interface
     function c_model_builtin(name, theta, ntheta) bind(c, name='latens_sde_model_builtin')
       import :: c_ptr, c_char, c_size_t
       character(kind=c_char), intent(in) :: name(*)
       type(c_ptr), value :: theta
       integer(c_size_t), value :: ntheta
       type(c_ptr) :: c_model_builtin
     end function c_model_builtin
     function c_model_alloc(d, m, noise, ntheta) bind(c, name='latens_sde_model_alloc')
       import :: c_ptr, c_size_t, c_int
       integer(c_size_t), value :: d, m
       integer(c_int), value :: noise
       integer(c_size_t), value :: ntheta
       type(c_ptr) :: c_model_alloc
     end function c_model_alloc
     subroutine c_model_free(model) bind(c, name='latens_sde_model_free')
       import :: c_ptr
       type(c_ptr), value :: model
     end subroutine c_model_free
     function c_model_set_param(model, k, name, value, lo, hi) &
          bind(c, name='latens_sde_model_set_param')
       import :: c_ptr, c_size_t, c_char, c_double, c_int
       type(c_ptr), value :: model
       integer(c_size_t), value :: k
       character(kind=c_char), intent(in) :: name(*)
       real(c_double), value :: value, lo, hi
       integer(c_int) :: c_model_set_param
     end function c_model_set_param
     function c_model_set_params(model, theta, n) bind(c, name='latens_sde_model_set_params')
       import :: c_ptr, c_size_t, c_double, c_int
       type(c_ptr), value :: model
       real(c_double), intent(in) :: theta(*)
       integer(c_size_t), value :: n
       integer(c_int) :: c_model_set_params
     end function c_model_set_params
     subroutine c_options_default(opt) bind(c, name='latens_sde_options_default')
       import :: latens_sde_options
       type(latens_sde_options), intent(out) :: opt
     end subroutine c_options_default
     function c_solve(model, opt, x0, t, nt, rng, x, w, stats) bind(c, name='latens_sde_solve')
       import :: c_ptr, c_size_t, c_double, c_int, latens_sde_options, latens_mat_c
       type(c_ptr), value :: model
       type(latens_sde_options), intent(in) :: opt
       type(c_ptr), value :: x0
       real(c_double), intent(in) :: t(*)
       integer(c_size_t), value :: nt
       type(c_ptr), value :: rng
       type(latens_mat_c), intent(in) :: x
       type(c_ptr), value :: w, stats
       integer(c_int) :: c_solve
     end function c_solve
     function c_ensemble(model, opt, x0, t, nt, npaths, seed, x, w, stats, progress) &
          bind(c, name='latens_sde_ensemble')
       import :: c_ptr, c_size_t, c_double, c_int, c_int64_t, latens_sde_options, latens_mat_c
       type(c_ptr), value :: model
       type(latens_sde_options), intent(in) :: opt
       type(c_ptr), value :: x0
       real(c_double), intent(in) :: t(*)
       integer(c_size_t), value :: nt, npaths
       integer(c_int64_t), value :: seed
       type(latens_mat_c), intent(in) :: x
       type(c_ptr), value :: w, stats, progress
       integer(c_int) :: c_ensemble
     end function c_ensemble
     function c_summary(model, opt, x0, t, nt, npaths, seed, prob, nq, mean, var, quant, &
          stats, progress) bind(c, name='latens_sde_ensemble_summary')
       import :: c_ptr, c_size_t, c_double, c_int, c_int64_t, latens_sde_options
       type(c_ptr), value :: model
       type(latens_sde_options), intent(in) :: opt
       type(c_ptr), value :: x0
       real(c_double), intent(in) :: t(*)
       integer(c_size_t), value :: nt, npaths
       integer(c_int64_t), value :: seed
       type(c_ptr), value :: prob
       integer(c_size_t), value :: nq
       type(c_ptr), value :: mean, var, quant, stats, progress
       integer(c_int) :: c_summary
     end function c_summary
  end interface

contains

  !> The library's default options (scheme EM, dt 1e-3, ...).
  function latens_sde_options_default() result(opt)
    type(latens_sde_options) :: opt
    call c_options_default(opt)
  end function latens_sde_options_default

  ! ------------------------------------------------------------------ model construction

  !> A built-in model ("ou", "gbm", "cir", "double-well", "lotka-volterra", "lorenz",
  !> "additive"); theta: its parameters in the documented order (absent: the defaults).
  subroutine model_builtin(self, name, theta, stat)
    class(latens_sde_model), intent(inout) :: self
    character(*), intent(in) :: name
    real(c_double), intent(in), optional, contiguous, target :: theta(:)
    integer, intent(out), optional :: stat
    integer(c_int) :: status
    call latens_f_begin(stat)
    call self%free()
    if (present(theta)) then
       if (size(theta) > 0) then
          self%handle = c_model_builtin(latens_c_string(name), c_loc(theta), &
               size(theta, kind=c_size_t))
       else
          self%handle = c_model_builtin(latens_c_string(name), c_null_ptr, 0_c_size_t)
       end if
    else
       self%handle = c_model_builtin(latens_c_string(name), c_null_ptr, 0_c_size_t)
    end if
    status = LATENS_OK
    if (.not. c_associated(self%handle)) status = int(max(latens_last_error_status(), 1), c_int)
    call latens_f_end(status, stat, 'latens_sde_model%builtin')
  end subroutine model_builtin

  !> An empty model for the user's callbacks: state dimension d, Brownian dimension m (forced
  !> to d for diagonal noise, must be 1 for scalar), noise kind, ntheta parameters (all 0).
  subroutine model_create(self, d, m, noise, ntheta, stat)
    class(latens_sde_model), intent(inout) :: self
    integer, intent(in) :: d, m, noise, ntheta
    integer, intent(out), optional :: stat
    integer(c_int) :: status
    call latens_f_begin(stat)
    call self%free()
    if (d < 1 .or. m < 1 .or. ntheta < 0) then
       status = latens_f_fail(LATENS_EINVAL, 'latens_sde_model%create: need d >= 1, m >= 1, ntheta >= 0')
    else
       self%handle = c_model_alloc(int(d, c_size_t), int(m, c_size_t), int(noise, c_int), &
            int(ntheta, c_size_t))
       status = LATENS_OK
       if (.not. c_associated(self%handle)) status = int(max(latens_last_error_status(), 1), c_int)
    end if
    call latens_f_end(status, stat, 'latens_sde_model%create')
  end subroutine model_create

  function model_struct(self) result(p)
    class(latens_sde_model), intent(in) :: self
    type(sde_model_c), pointer :: p
    call c_f_pointer(self%handle, p)
  end function model_struct

  !> Use Fortran procedures as drift and diffusion; data (optional, copied) is handed to
  !> every call.  Replaces the model's callbacks (also those of a built-in).
  subroutine model_set_callbacks(self, drift, diffusion, data, stat)
    class(latens_sde_model), intent(inout) :: self
    procedure(latens_sde_drift) :: drift
    procedure(latens_sde_diffusion) :: diffusion
    class(*), intent(in), optional :: data
    integer, intent(out), optional :: stat
    type(sde_model_c), pointer :: m
    integer(c_int) :: status
    call latens_f_begin(stat)
    status = LATENS_OK
    if (.not. c_associated(self%handle)) then
       status = latens_f_fail(LATENS_EINVAL, 'latens_sde_model%set_callbacks: model not created')
    else
       m => model_struct(self)
       if (.not. associated(self%cb)) allocate(self%cb)
       self%cb%drift => drift
       self%cb%diffusion => diffusion
       if (allocated(self%cb%data)) deallocate(self%cb%data)
       if (present(data)) then
          allocate(self%cb%data, source=data)
       else
          allocate(self%cb%data, source=0)
       end if
       self%cb%d = int(m%d)
       self%cb%ntheta = int(m%ntheta)
       self%cb%glen = int(m%d)
       if (m%noise == LATENS_SDE_NOISE_ADDITIVE .or. m%noise == LATENS_SDE_NOISE_GENERAL) &
            self%cb%glen = int(m%d * m%m)
       m%drift = c_funloc(tramp_drift)
       m%diffusion = c_funloc(tramp_diffusion)
       m%both = c_null_funptr
       m%drift_jac = c_null_funptr
       m%diffusion_deriv = c_null_funptr
       m%linear = c_null_funptr
       m%user = c_loc(self%cb)
    end if
    call latens_f_end(status, stat, 'latens_sde_model%set_callbacks')
  end subroutine model_set_callbacks

  !> Use bind(c) procedures with the C signature (c_funloc of a latens_sde_drift_c
  !> procedure) and a user pointer of your own (c_loc of your data, or c_null_ptr).
  subroutine model_set_callbacks_c(self, drift, diffusion, user, stat)
    class(latens_sde_model), intent(inout) :: self
    type(c_funptr), intent(in) :: drift, diffusion
    type(c_ptr), intent(in) :: user
    integer, intent(out), optional :: stat
    type(sde_model_c), pointer :: m
    integer(c_int) :: status
    call latens_f_begin(stat)
    status = LATENS_OK
    if (.not. c_associated(self%handle)) then
       status = latens_f_fail(LATENS_EINVAL, 'latens_sde_model%set_callbacks_c: model not created')
    else
       m => model_struct(self)
       m%drift = drift
       m%diffusion = diffusion
       m%both = c_null_funptr
       m%drift_jac = c_null_funptr
       m%diffusion_deriv = c_null_funptr
       m%linear = c_null_funptr
       m%user = user
    end if
    call latens_f_end(status, stat, 'latens_sde_model%set_callbacks_c')
  end subroutine model_set_callbacks_c

  !> Name parameter k (1-based), set its value and domain [lo, hi] (default: free).
  subroutine model_set_param(self, k, name, value, lo, hi, stat)
    class(latens_sde_model), intent(inout) :: self
    integer, intent(in) :: k
    character(*), intent(in) :: name
    real(c_double), intent(in) :: value
    real(c_double), intent(in), optional :: lo, hi
    integer, intent(out), optional :: stat
    real(c_double) :: a, b
    integer(c_int) :: status
    call latens_f_begin(stat)
    a = -huge(1d0)
    b = huge(1d0)
    if (present(lo)) a = lo
    if (present(hi)) b = hi
    if (.not. c_associated(self%handle) .or. k < 1) then
       status = latens_f_fail(LATENS_EINVAL, 'latens_sde_model%set_param: no model or k < 1')
    else
       status = c_model_set_param(self%handle, int(k - 1, c_size_t), latens_c_string(name), &
            value, a, b)
    end if
    call latens_f_end(status, stat, 'latens_sde_model%set_param')
  end subroutine model_set_param

  !> All parameters at once (checked against their domains).
  subroutine model_set_params(self, theta, stat)
    class(latens_sde_model), intent(inout) :: self
    real(c_double), intent(in), contiguous :: theta(:)
    integer, intent(out), optional :: stat
    integer(c_int) :: status
    call latens_f_begin(stat)
    if (.not. c_associated(self%handle)) then
       status = latens_f_fail(LATENS_EINVAL, 'latens_sde_model%set_params: model not created')
    else
       status = c_model_set_params(self%handle, theta, size(theta, kind=c_size_t))
    end if
    call latens_f_end(status, stat, 'latens_sde_model%set_params')
  end subroutine model_set_params

  !> The default initial state (d values).
  subroutine model_set_x0(self, x0, stat)
    class(latens_sde_model), intent(inout) :: self
    real(c_double), intent(in) :: x0(:)
    integer, intent(out), optional :: stat
    type(sde_model_c), pointer :: m
    real(c_double), pointer :: p(:)
    integer(c_int) :: status
    call latens_f_begin(stat)
    status = LATENS_OK
    if (.not. c_associated(self%handle)) then
       status = latens_f_fail(LATENS_EINVAL, 'latens_sde_model%set_x0: model not created')
    else
       m => model_struct(self)
       if (size(x0) /= int(m%d)) then
          status = latens_f_fail(LATENS_EBADLEN, 'latens_sde_model%set_x0: size(x0) differs from d')
       else
          call c_f_pointer(m%x0, p, [m%d])
          p = x0
       end if
    end if
    call latens_f_end(status, stat, 'latens_sde_model%set_x0')
  end subroutine model_set_x0

  !> LATENS_SDE_ITO or LATENS_SDE_STRATONOVICH.
  subroutine model_set_calculus(self, calculus)
    class(latens_sde_model), intent(inout) :: self
    integer, intent(in) :: calculus
    type(sde_model_c), pointer :: m
    if (.not. c_associated(self%handle)) return
    m => model_struct(self)
    m%calculus = int(calculus, c_int)
  end subroutine model_set_calculus

  integer function model_dim(self)
    class(latens_sde_model), intent(in) :: self
    type(sde_model_c), pointer :: m
    model_dim = 0
    if (.not. c_associated(self%handle)) return
    m => model_struct(self)
    model_dim = int(m%d)
  end function model_dim

  integer function model_nbrownian(self)
    class(latens_sde_model), intent(in) :: self
    type(sde_model_c), pointer :: m
    model_nbrownian = 0
    if (.not. c_associated(self%handle)) return
    m => model_struct(self)
    model_nbrownian = int(m%m)
  end function model_nbrownian

  integer function model_nparams(self)
    class(latens_sde_model), intent(in) :: self
    type(sde_model_c), pointer :: m
    model_nparams = 0
    if (.not. c_associated(self%handle)) return
    m => model_struct(self)
    model_nparams = int(m%ntheta)
  end function model_nparams

  subroutine model_free(self)
    class(latens_sde_model), intent(inout) :: self
    call c_model_free(self%handle)
    self%handle = c_null_ptr
    if (associated(self%cb)) deallocate(self%cb)
    self%cb => null()
  end subroutine model_free

  subroutine model_final(self)
    type(latens_sde_model), intent(inout) :: self
    call self%free()
  end subroutine model_final

  subroutine model_assign(lhs, rhs)
    class(latens_sde_model), intent(inout) :: lhs
    class(latens_sde_model), intent(in) :: rhs
    if (c_associated(lhs%handle, rhs%handle)) return
    if (.not. c_associated(rhs%handle)) then
       call lhs%free()
       return
    end if
    error stop 'latens: a latens_sde_model cannot be copied; pass it by reference'
  end subroutine model_assign

  ! ------------------------------------------------------------------ trampolines

  ! A Fortran stat becomes the callback's return value: the solver stops on non-zero.
  integer(c_int) function tramp_drift(t, x, theta, user, f) bind(c)
    real(c_double), value :: t
    real(c_double), intent(in) :: x(*), theta(*)
    type(c_ptr), value :: user
    real(c_double), intent(inout) :: f(*)
    type(sde_callbacks), pointer :: cb
    integer :: st
    call c_f_pointer(user, cb)
    st = 0
    call cb%drift(t, x(1:cb%d), theta(1:cb%ntheta), f(1:cb%d), cb%data, st)
    tramp_drift = int(st, c_int)
  end function tramp_drift

  integer(c_int) function tramp_diffusion(t, x, theta, user, g) bind(c)
    real(c_double), value :: t
    real(c_double), intent(in) :: x(*), theta(*)
    type(c_ptr), value :: user
    real(c_double), intent(inout) :: g(*)
    type(sde_callbacks), pointer :: cb
    integer :: st
    call c_f_pointer(user, cb)
    st = 0
    call cb%diffusion(t, x(1:cb%d), theta(1:cb%ntheta), g(1:cb%glen), cb%data, st)
    tramp_diffusion = int(st, c_int)
  end function tramp_diffusion

  ! ------------------------------------------------------------------ solvers

  ! Checks shared by the solvers: a model, increasing times, x0 of length d.
  integer(c_int) function check_call(model, t, x0, what) result(status)
    type(latens_sde_model), intent(in) :: model
    real(c_double), intent(in) :: t(:)
    real(c_double), intent(in), optional :: x0(:)
    character(*), intent(in) :: what
    status = LATENS_OK
    if (.not. c_associated(model%handle)) then
       status = latens_f_fail(LATENS_EINVAL, what // ': model not created')
    else if (size(t) < 1) then
       status = latens_f_fail(LATENS_EINVAL, what // ': need at least one output time')
    else if (present(x0)) then
       if (size(x0) /= model%dim()) status = latens_f_fail(LATENS_EBADLEN, what // &
            ': size(x0) differs from the model dimension')
    end if
  end function check_call

  function opt_or_default(opt) result(o)
    type(latens_sde_options), intent(in), optional :: opt
    type(latens_sde_options) :: o
    if (present(opt)) then
       o = opt
    else
       call c_options_default(o)
    end if
  end function opt_or_default

  !> One path on the output grid t (increasing), drawing from rng: x(d, size(t)).
  !> x0 (default: the model's), w (m x nt: W(t_k) - W(t_1)), stats optional.
  subroutine latens_sde_solve(model, t, x, rng, opt, x0, w, stats, stat)
    type(latens_sde_model), intent(in) :: model
    real(c_double), intent(in), contiguous :: t(:)
    real(c_double), intent(out), contiguous, target :: x(:, :)
    type(latens_rng), intent(inout) :: rng
    type(latens_sde_options), intent(in), optional :: opt
    real(c_double), intent(in), contiguous, target, optional :: x0(:)
    real(c_double), intent(out), contiguous, target, optional :: w(:, :)
    type(latens_sde_stats), intent(out), target, optional :: stats
    integer, intent(out), optional :: stat
    type(latens_mat_c) :: xv
    type(latens_mat_c), target :: wv
    type(c_ptr) :: px0, pw, ps
    integer(c_int) :: status
    call latens_f_begin(stat)
    status = check_call(model, t, x0, 'latens_sde_solve')
    if (status == LATENS_OK .and. (size(x, 1) /= model%dim() .or. size(x, 2) /= size(t))) &
         status = latens_f_fail(LATENS_EBADLEN, 'latens_sde_solve: x must be d x size(t)')
    if (status == LATENS_OK .and. .not. c_associated(rng%handle)) &
         status = latens_f_fail(LATENS_EINVAL, 'latens_sde_solve: rng not initialised')
    if (status == LATENS_OK .and. present(w)) then
       if (size(w, 1) /= model%nbrownian() .or. size(w, 2) /= size(t)) &
            status = latens_f_fail(LATENS_EBADLEN, 'latens_sde_solve: w must be m x size(t)')
    end if
    if (status == LATENS_OK) then
       px0 = c_null_ptr
       pw = c_null_ptr
       ps = c_null_ptr
       if (present(x0)) px0 = c_loc(x0)
       if (present(w)) then
          wv = latens_mat_view(w)
          pw = c_loc(wv)
       end if
       if (present(stats)) ps = c_loc(stats)
       xv = latens_mat_view(x)
       status = c_solve(model%handle, opt_or_default(opt), px0, t, size(t, kind=c_size_t), &
            rng%handle, xv, pw, ps)
    end if
    call latens_f_end(status, stat, 'latens_sde_solve')
  end subroutine latens_sde_solve

  !> npaths = size(x, 3) paths; path p uses the stream (seed, p - 1) exactly as
  !> latens_sde_solve would, so the result does not depend on the thread count.
  !> x(d, size(t), npaths).
  subroutine latens_sde_ensemble(model, t, seed, x, opt, x0, stats, stat)
    type(latens_sde_model), intent(in) :: model
    real(c_double), intent(in), contiguous :: t(:)
    integer(c_int64_t), intent(in) :: seed
    real(c_double), intent(out), contiguous, target :: x(:, :, :)
    type(latens_sde_options), intent(in), optional :: opt
    real(c_double), intent(in), contiguous, target, optional :: x0(:)
    type(latens_sde_stats), intent(out), target, optional :: stats
    integer, intent(out), optional :: stat
    type(latens_mat_c) :: xv
    type(c_ptr) :: px0, ps
    integer(c_int) :: status
    call latens_f_begin(stat)
    status = check_call(model, t, x0, 'latens_sde_ensemble')
    if (status == LATENS_OK .and. (size(x, 1) /= model%dim() .or. size(x, 2) /= size(t) &
         .or. size(x, 3) < 1)) status = latens_f_fail(LATENS_EBADLEN, &
         'latens_sde_ensemble: x must be d x size(t) x npaths with npaths >= 1')
    if (status == LATENS_OK) then
       px0 = c_null_ptr
       ps = c_null_ptr
       if (present(x0)) px0 = c_loc(x0)
       if (present(stats)) ps = c_loc(stats)
       xv%data = c_loc(x)
       xv%nrow = int(size(x, 1) * size(x, 2), c_size_t)
       xv%ncol = size(x, 3, kind=c_size_t)
       xv%ld = xv%nrow
       status = c_ensemble(model%handle, opt_or_default(opt), px0, t, size(t, kind=c_size_t), &
            xv%ncol, seed, xv, c_null_ptr, ps, c_null_ptr)
    end if
    call latens_f_end(status, stat, 'latens_sde_ensemble')
  end subroutine latens_sde_ensemble

  !> Summary statistics over npaths paths without storing them (the same paths as
  !> latens_sde_ensemble with the same seed): mean(d, nt), var(d, nt) (divisor npaths - 1),
  !> and quant(d, size(prob), nt) at probabilities prob (R's type 7).
  subroutine latens_sde_ensemble_summary(model, t, npaths, seed, mean, var, prob, quant, opt, &
       x0, stats, stat)
    type(latens_sde_model), intent(in) :: model
    real(c_double), intent(in), contiguous :: t(:)
    integer, intent(in) :: npaths
    integer(c_int64_t), intent(in) :: seed
    real(c_double), intent(out), contiguous, target, optional :: mean(:, :), var(:, :)
    real(c_double), intent(in), contiguous, target, optional :: prob(:)
    real(c_double), intent(out), contiguous, target, optional :: quant(:, :, :)
    type(latens_sde_options), intent(in), optional :: opt
    real(c_double), intent(in), contiguous, target, optional :: x0(:)
    type(latens_sde_stats), intent(out), target, optional :: stats
    integer, intent(out), optional :: stat
    type(latens_mat_c), target :: mv, vv, qv
    type(c_ptr) :: px0, pm, pv, pq, pp, ps
    integer(c_size_t) :: nq
    integer :: d, nt
    integer(c_int) :: status
    call latens_f_begin(stat)
    status = check_call(model, t, x0, 'latens_sde_ensemble_summary')
    d = model%dim()
    nt = size(t)
    px0 = c_null_ptr; pm = c_null_ptr; pv = c_null_ptr; pq = c_null_ptr; pp = c_null_ptr
    ps = c_null_ptr
    nq = 0
    if (status == LATENS_OK .and. npaths < 1) &
         status = latens_f_fail(LATENS_EINVAL, 'latens_sde_ensemble_summary: npaths < 1')
    if (status == LATENS_OK .and. present(mean)) then
       if (size(mean, 1) /= d .or. size(mean, 2) /= nt) then
          status = latens_f_fail(LATENS_EBADLEN, 'latens_sde_ensemble_summary: mean must be d x nt')
       else
          mv = latens_mat_view(mean)
          pm = c_loc(mv)
       end if
    end if
    if (status == LATENS_OK .and. present(var)) then
       if (size(var, 1) /= d .or. size(var, 2) /= nt) then
          status = latens_f_fail(LATENS_EBADLEN, 'latens_sde_ensemble_summary: var must be d x nt')
       else
          vv = latens_mat_view(var)
          pv = c_loc(vv)
       end if
    end if
    if (status == LATENS_OK .and. (present(prob) .neqv. present(quant))) status = &
         latens_f_fail(LATENS_EINVAL, 'latens_sde_ensemble_summary: give prob and quant together')
    if (status == LATENS_OK .and. present(prob) .and. present(quant)) then
       nq = size(prob, kind=c_size_t)
       if (size(quant, 1) /= d .or. size(quant, 2) /= size(prob) .or. size(quant, 3) /= nt) then
          status = latens_f_fail(LATENS_EBADLEN, &
               'latens_sde_ensemble_summary: quant must be d x size(prob) x nt')
       else if (nq > 0) then
          pp = c_loc(prob)
          qv%data = c_loc(quant)
          qv%nrow = int(d, c_size_t) * nq
          qv%ncol = int(nt, c_size_t)
          qv%ld = qv%nrow
          pq = c_loc(qv)
       end if
    end if
    if (status == LATENS_OK) then
       if (present(x0)) px0 = c_loc(x0)
       if (present(stats)) ps = c_loc(stats)
       status = c_summary(model%handle, opt_or_default(opt), px0, t, int(nt, c_size_t), &
            int(npaths, c_size_t), seed, pp, nq, pm, pv, pq, ps, c_null_ptr)
    end if
    call latens_f_end(status, stat, 'latens_sde_ensemble_summary')
  end subroutine latens_sde_ensemble_summary

end module latens_sde

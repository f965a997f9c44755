! latens_pc: probabilistic circuits (include/latens/pc.h, pc_learn.h) from Fortran.
!
! Data are n x nvars matrices x(i, j): a discrete value is its category index 0..ncat-1
! stored as a real, NaN is missing and is summed out, so latens_pc_loglik on rows with NaN
! gives marginals.  Variables and unit ids are 1-based in Fortran (1..nvars, 1..nunits).
module latens_pc
  use, intrinsic :: iso_c_binding
  use latens_core
  implicit none
  private

  integer, parameter, public :: LATENS_PC_INDICATOR = 0, LATENS_PC_BERNOULLI = 1, &
       LATENS_PC_CATEGORICAL = 2, LATENS_PC_GAUSSIAN = 3, LATENS_PC_PRODUCT = 4, &
       LATENS_PC_SUM = 5

  ! latens_pc_em_options (defaults from latens_pc_em_options_default()); the history
  ! pointers of the C struct are not exposed (kept NULL).
  type, bind(c), public :: latens_pc_em_options
     integer(c_size_t) :: epochs = 100, batch_size = 0
     real(c_double) :: step_size = 0.1d0, step_size_final = 0.9d0, pseudocount = 0.1d0
     integer(c_size_t) :: patience = 5
     integer(c_int) :: keep_best = 1
     integer(c_size_t) :: work_batch = 0
     type(c_ptr), private :: train_history = c_null_ptr, valid_history = c_null_ptr
  end type latens_pc_em_options

  type, bind(c), public :: latens_pc_em_result
     integer(c_size_t) :: epochs = 0
     real(c_double) :: train_ll = 0, valid_ll = 0, best_valid_ll = 0
     integer(c_size_t) :: best_epoch = 0
     integer(c_int) :: stopped_early = 0
  end type latens_pc_em_result

  ! A circuit handle; assignment makes a deep copy.
  type, public :: latens_pc_circuit
     type(c_ptr) :: handle = c_null_ptr
   contains
     procedure :: create => pc_create
     procedure :: add_bernoulli => pc_add_bernoulli
     procedure :: add_categorical => pc_add_categorical
     procedure :: add_gaussian => pc_add_gaussian
     procedure :: add_indicator => pc_add_indicator
     procedure :: add_product => pc_add_product
     procedure :: add_sum => pc_add_sum
     procedure :: set_root => pc_set_root
     procedure :: finalize => pc_finalize
     procedure :: load => pc_load
     procedure :: save => pc_save
     procedure :: learn_cltree => pc_learn_cltree
     procedure :: nvars => pc_nvars
     procedure :: nunits => pc_nunits
     procedure :: nparams => pc_nparams
     procedure :: is_deterministic => pc_is_deterministic
     procedure :: get_params => pc_get_params
     procedure :: free => pc_free
     generic :: assignment(=) => pc_assign
     procedure, private :: pc_assign
     final :: pc_final
  end type latens_pc_circuit

  public :: latens_pc_loglik, latens_pc_map, latens_pc_sample, latens_pc_em
  public :: latens_pc_em_options_default

  interface
     function c_alloc(nvars, ncat) bind(c, name='latens_pc_alloc')
       import :: c_ptr, c_size_t
       integer(c_size_t), value :: nvars
       type(c_ptr), value :: ncat
       type(c_ptr) :: c_alloc
     end function c_alloc
     subroutine c_free(pc) bind(c, name='latens_pc_free')
       import :: c_ptr
       type(c_ptr), value :: pc
     end subroutine c_free
     function c_copy(pc) bind(c, name='latens_pc_copy')
       import :: c_ptr
       type(c_ptr), value :: pc
       type(c_ptr) :: c_copy
     end function c_copy
     function c_add_bernoulli(pc, var, p1, id) bind(c, name='latens_pc_add_bernoulli')
       import :: c_ptr, c_size_t, c_double, c_int
       type(c_ptr), value :: pc
       integer(c_size_t), value :: var
       real(c_double), value :: p1
       integer(c_size_t), intent(out) :: id
       integer(c_int) :: c_add_bernoulli
     end function c_add_bernoulli
     function c_add_categorical(pc, var, probs, id) bind(c, name='latens_pc_add_categorical')
       import :: c_ptr, c_size_t, c_int
       type(c_ptr), value :: pc
       integer(c_size_t), value :: var
       type(c_ptr), value :: probs
       integer(c_size_t), intent(out) :: id
       integer(c_int) :: c_add_categorical
     end function c_add_categorical
     function c_add_gaussian(pc, var, mean, sd, id) bind(c, name='latens_pc_add_gaussian')
       import :: c_ptr, c_size_t, c_double, c_int
       type(c_ptr), value :: pc
       integer(c_size_t), value :: var
       real(c_double), value :: mean, sd
       integer(c_size_t), intent(out) :: id
       integer(c_int) :: c_add_gaussian
     end function c_add_gaussian
     function c_add_indicator(pc, var, value, id) bind(c, name='latens_pc_add_indicator')
       import :: c_ptr, c_size_t, c_int
       type(c_ptr), value :: pc
       integer(c_size_t), value :: var, value
       integer(c_size_t), intent(out) :: id
       integer(c_int) :: c_add_indicator
     end function c_add_indicator
     function c_add_product(pc, children, n, id) bind(c, name='latens_pc_add_product')
       import :: c_ptr, c_size_t, c_int
       type(c_ptr), value :: pc
       integer(c_size_t), intent(in) :: children(*)
       integer(c_size_t), value :: n
       integer(c_size_t), intent(out) :: id
       integer(c_int) :: c_add_product
     end function c_add_product
     function c_add_sum(pc, children, weights, n, id) bind(c, name='latens_pc_add_sum')
       import :: c_ptr, c_size_t, c_int
       type(c_ptr), value :: pc
       integer(c_size_t), intent(in) :: children(*)
       type(c_ptr), value :: weights
       integer(c_size_t), value :: n
       integer(c_size_t), intent(out) :: id
       integer(c_int) :: c_add_sum
     end function c_add_sum
     function c_set_root(pc, id) bind(c, name='latens_pc_set_root')
       import :: c_ptr, c_size_t, c_int
       type(c_ptr), value :: pc
       integer(c_size_t), value :: id
       integer(c_int) :: c_set_root
     end function c_set_root
     function c_finalize(pc) bind(c, name='latens_pc_finalize')
       import :: c_ptr, c_int
       type(c_ptr), value :: pc
       integer(c_int) :: c_finalize
     end function c_finalize
     function c_load(path, out) bind(c, name='latens_pc_load')
       import :: c_ptr, c_char, c_int
       character(kind=c_char), intent(in) :: path(*)
       type(c_ptr), intent(out) :: out
       integer(c_int) :: c_load
     end function c_load
     function c_save(pc, path) bind(c, name='latens_pc_save')
       import :: c_ptr, c_char, c_int
       type(c_ptr), value :: pc
       character(kind=c_char), intent(in) :: path(*)
       integer(c_int) :: c_save
     end function c_save
     function c_cltree_fit(train, alpha, out) bind(c, name='latens_pc_cltree_fit')
       import :: c_ptr, c_double, c_int, latens_mat_c
       type(latens_mat_c), intent(in) :: train
       real(c_double), value :: alpha
       type(c_ptr), intent(out) :: out
       integer(c_int) :: c_cltree_fit
     end function c_cltree_fit
     function c_hclt_to_circuit(h, out) bind(c, name='latens_pc_hclt_to_circuit')
       import :: c_ptr, c_int
       type(c_ptr), value :: h
       type(c_ptr), intent(out) :: out
       integer(c_int) :: c_hclt_to_circuit
     end function c_hclt_to_circuit
     subroutine c_hclt_free(h) bind(c, name='latens_pc_hclt_free')
       import :: c_ptr
       type(c_ptr), value :: h
     end subroutine c_hclt_free
     function c_params(pc) bind(c, name='latens_pc_params')
       import :: c_ptr
       type(c_ptr), value :: pc
       type(c_ptr) :: c_params
     end function c_params
     function c_loglik(pc, x, ll, w) bind(c, name='latens_pc_loglik')
       import :: c_ptr, c_int, latens_mat_c, latens_vec_c
       type(c_ptr), value :: pc
       type(latens_mat_c), intent(in) :: x
       type(latens_vec_c), intent(in) :: ll
       type(c_ptr), value :: w
       integer(c_int) :: c_loglik
     end function c_loglik
     function c_map(pc, x, logp, w) bind(c, name='latens_pc_map')
       import :: c_ptr, c_int, latens_mat_c
       type(c_ptr), value :: pc
       type(latens_mat_c), intent(in) :: x
       type(c_ptr), value :: logp, w
       integer(c_int) :: c_map
     end function c_map
     function c_sample(pc, x, rng, w) bind(c, name='latens_pc_sample')
       import :: c_ptr, c_int, latens_mat_c
       type(c_ptr), value :: pc
       type(latens_mat_c), intent(in) :: x
       type(c_ptr), value :: rng, w
       integer(c_int) :: c_sample
     end function c_sample
     subroutine c_em_options_default(opt) bind(c, name='latens_pc_em_options_default')
       import :: latens_pc_em_options
       type(latens_pc_em_options), intent(out) :: opt
     end subroutine c_em_options_default
     function c_em(pc, train, valid, opt, rng, progress, res) bind(c, name='latens_pc_em')
       import :: c_ptr, c_int, latens_mat_c, latens_pc_em_options, latens_pc_em_result
       type(c_ptr), value :: pc
       type(latens_mat_c), intent(in) :: train
       type(c_ptr), value :: valid
       type(latens_pc_em_options), intent(in) :: opt
       type(c_ptr), value :: rng, progress
       type(latens_pc_em_result), intent(out) :: res
       integer(c_int) :: c_em
     end function c_em
  end interface

contains

  function latens_pc_em_options_default() result(opt)
    type(latens_pc_em_options) :: opt
    call c_em_options_default(opt)
  end function latens_pc_em_options_default

  ! ------------------------------------------------------------------ building

  !> An empty circuit over nvars variables; ncat(j): categories of variable j (2 binary,
  !> 0 continuous); absent: all binary.
  subroutine pc_create(self, nvars, ncat, stat)
    class(latens_pc_circuit), intent(inout) :: self
    integer, intent(in) :: nvars
    integer, intent(in), optional :: ncat(:)
    integer, intent(out), optional :: stat
    integer(c_size_t), allocatable, target :: nc(:)
    integer(c_int) :: status
    call latens_f_begin(stat)
    call self%free()
    status = LATENS_OK
    if (nvars < 1) then
       status = latens_f_fail(LATENS_EINVAL, 'latens_pc_circuit%create: nvars < 1')
    else if (present(ncat)) then
       if (size(ncat) /= nvars .or. any(ncat < 0)) then
          status = latens_f_fail(LATENS_EBADLEN, 'latens_pc_circuit%create: ncat needs nvars values >= 0')
       else
          nc = int(ncat, c_size_t)
          self%handle = c_alloc(int(nvars, c_size_t), c_loc(nc))
       end if
    else
       self%handle = c_alloc(int(nvars, c_size_t), c_null_ptr)
    end if
    if (status == LATENS_OK .and. .not. c_associated(self%handle)) &
         status = int(max(latens_last_error_status(), 1), c_int)
    call latens_f_end(status, stat, 'latens_pc_circuit%create')
  end subroutine pc_create

  ! Common tail of the add_* wrappers: 1-based id out, status handling.
  subroutine added(status, cid, id, stat, what)
    integer(c_int), intent(in) :: status
    integer(c_size_t), intent(in) :: cid
    integer, intent(out), optional :: id
    integer, intent(out), optional :: stat
    character(*), intent(in) :: what
    if (present(id)) then
       id = 0
       if (status == LATENS_OK) id = int(cid) + 1
    end if
    call latens_f_end(status, stat, what)
  end subroutine added

  integer(c_int) function need(self, what) result(status)
    class(latens_pc_circuit), intent(in) :: self
    character(*), intent(in) :: what
    status = LATENS_OK
    if (.not. c_associated(self%handle)) status = latens_f_fail(LATENS_EINVAL, what // ': no circuit')
  end function need

  !> A Bernoulli input on variable var with P(x = 1) = p1; id (optional) its unit id.
  subroutine pc_add_bernoulli(self, var, p1, id, stat)
    class(latens_pc_circuit), intent(inout) :: self
    integer, intent(in) :: var
    real(c_double), intent(in) :: p1
    integer, intent(out), optional :: id, stat
    integer(c_size_t) :: cid
    integer(c_int) :: status
    call latens_f_begin(stat)
    cid = 0
    status = need(self, 'latens_pc_circuit%add_bernoulli')
    if (status == LATENS_OK) status = c_add_bernoulli(self%handle, int(var - 1, c_size_t), p1, cid)
    call added(status, cid, id, stat, 'latens_pc_circuit%add_bernoulli')
  end subroutine pc_add_bernoulli

  !> A categorical input on var with probabilities probs(1:ncat) (absent: uniform).
  subroutine pc_add_categorical(self, var, probs, id, stat)
    class(latens_pc_circuit), intent(inout) :: self
    integer, intent(in) :: var
    real(c_double), intent(in), contiguous, target, optional :: probs(:)
    integer, intent(out), optional :: id, stat
    integer(c_size_t) :: cid
    type(c_ptr) :: pp
    integer(c_int) :: status
    call latens_f_begin(stat)
    cid = 0
    pp = c_null_ptr
    status = need(self, 'latens_pc_circuit%add_categorical')
    if (present(probs)) then
       if (status == LATENS_OK .and. size(probs) /= ncat_of(self, var)) status = latens_f_fail( &
            LATENS_EBADLEN, 'latens_pc_circuit%add_categorical: size(probs) /= ncat of the variable')
       if (size(probs) > 0) pp = c_loc(probs)
    end if
    if (status == LATENS_OK) status = c_add_categorical(self%handle, int(var - 1, c_size_t), pp, cid)
    call added(status, cid, id, stat, 'latens_pc_circuit%add_categorical')
  end subroutine pc_add_categorical

  !> A Gaussian input on the continuous variable var.
  subroutine pc_add_gaussian(self, var, mean, sd, id, stat)
    class(latens_pc_circuit), intent(inout) :: self
    integer, intent(in) :: var
    real(c_double), intent(in) :: mean, sd
    integer, intent(out), optional :: id, stat
    integer(c_size_t) :: cid
    integer(c_int) :: status
    call latens_f_begin(stat)
    cid = 0
    status = need(self, 'latens_pc_circuit%add_gaussian')
    if (status == LATENS_OK) &
         status = c_add_gaussian(self%handle, int(var - 1, c_size_t), mean, sd, cid)
    call added(status, cid, id, stat, 'latens_pc_circuit%add_gaussian')
  end subroutine pc_add_gaussian

  !> The indicator [x_var == value], value in 0..ncat-1.
  subroutine pc_add_indicator(self, var, value, id, stat)
    class(latens_pc_circuit), intent(inout) :: self
    integer, intent(in) :: var, value
    integer, intent(out), optional :: id, stat
    integer(c_size_t) :: cid
    integer(c_int) :: status
    call latens_f_begin(stat)
    cid = 0
    status = need(self, 'latens_pc_circuit%add_indicator')
    if (status == LATENS_OK .and. (var < 1 .or. value < 0)) &
         status = latens_f_fail(LATENS_EINVAL, 'latens_pc_circuit%add_indicator: var < 1 or value < 0')
    if (status == LATENS_OK) status = c_add_indicator(self%handle, int(var - 1, c_size_t), &
         int(value, c_size_t), cid)
    call added(status, cid, id, stat, 'latens_pc_circuit%add_indicator')
  end subroutine pc_add_indicator

  !> A product of existing units (1-based ids).
  subroutine pc_add_product(self, children, id, stat)
    class(latens_pc_circuit), intent(inout) :: self
    integer, intent(in) :: children(:)
    integer, intent(out), optional :: id, stat
    integer(c_size_t) :: cid
    integer(c_int) :: status
    call latens_f_begin(stat)
    cid = 0
    status = need(self, 'latens_pc_circuit%add_product')
    if (status == LATENS_OK .and. (size(children) < 1 .or. any(children < 1))) status = &
         latens_f_fail(LATENS_EINVAL, 'latens_pc_circuit%add_product: need children with ids >= 1')
    if (status == LATENS_OK) status = c_add_product(self%handle, int(children - 1, c_size_t), &
         size(children, kind=c_size_t), cid)
    call added(status, cid, id, stat, 'latens_pc_circuit%add_product')
  end subroutine pc_add_product

  !> A weighted sum of existing units (weights absent: uniform).
  subroutine pc_add_sum(self, children, weights, id, stat)
    class(latens_pc_circuit), intent(inout) :: self
    integer, intent(in) :: children(:)
    real(c_double), intent(in), contiguous, target, optional :: weights(:)
    integer, intent(out), optional :: id, stat
    integer(c_size_t) :: cid
    type(c_ptr) :: pw
    integer(c_int) :: status
    call latens_f_begin(stat)
    cid = 0
    pw = c_null_ptr
    status = need(self, 'latens_pc_circuit%add_sum')
    if (status == LATENS_OK .and. (size(children) < 1 .or. any(children < 1))) status = &
         latens_f_fail(LATENS_EINVAL, 'latens_pc_circuit%add_sum: need children with ids >= 1')
    if (status == LATENS_OK .and. present(weights)) then
       if (size(weights) /= size(children)) then
          status = latens_f_fail(LATENS_EBADLEN, 'latens_pc_circuit%add_sum: size(weights) /= size(children)')
       else
          pw = c_loc(weights)
       end if
    end if
    if (status == LATENS_OK) status = c_add_sum(self%handle, int(children - 1, c_size_t), pw, &
         size(children, kind=c_size_t), cid)
    call added(status, cid, id, stat, 'latens_pc_circuit%add_sum')
  end subroutine pc_add_sum

  subroutine pc_set_root(self, id, stat)
    class(latens_pc_circuit), intent(inout) :: self
    integer, intent(in) :: id
    integer, intent(out), optional :: stat
    integer(c_int) :: status
    call latens_f_begin(stat)
    status = need(self, 'latens_pc_circuit%set_root')
    if (status == LATENS_OK .and. id < 1) &
         status = latens_f_fail(LATENS_EINVAL, 'latens_pc_circuit%set_root: id < 1')
    if (status == LATENS_OK) status = c_set_root(self%handle, int(id - 1, c_size_t))
    call latens_f_end(status, stat, 'latens_pc_circuit%set_root')
  end subroutine pc_set_root

  !> Validate (smooth, decomposable, root scope = all variables) and compile.
  subroutine pc_finalize(self, stat)
    class(latens_pc_circuit), intent(inout) :: self
    integer, intent(out), optional :: stat
    integer(c_int) :: status
    call latens_f_begin(stat)
    status = need(self, 'latens_pc_circuit%finalize')
    if (status == LATENS_OK) status = c_finalize(self%handle)
    call latens_f_end(status, stat, 'latens_pc_circuit%finalize')
  end subroutine pc_finalize

  !> Read a circuit file (the latens-pc text format) and finalise it.
  subroutine pc_load(self, path, stat)
    class(latens_pc_circuit), intent(inout) :: self
    character(*), intent(in) :: path
    integer, intent(out), optional :: stat
    integer(c_int) :: status
    call latens_f_begin(stat)
    call self%free()
    status = c_load(latens_c_string(path), self%handle)
    if (status /= LATENS_OK) self%handle = c_null_ptr
    call latens_f_end(status, stat, 'latens_pc_circuit%load')
  end subroutine pc_load

  !> Write the circuit to path atomically (bit-exact parameters).
  subroutine pc_save(self, path, stat)
    class(latens_pc_circuit), intent(in) :: self
    character(*), intent(in) :: path
    integer, intent(out), optional :: stat
    integer(c_int) :: status
    call latens_f_begin(stat)
    status = need(self, 'latens_pc_circuit%save')
    if (status == LATENS_OK) status = c_save(self%handle, latens_c_string(path))
    call latens_f_end(status, stat, 'latens_pc_circuit%save')
  end subroutine pc_save

  !> Learn the Chow-Liu tree of binary data x (0/1, NaN skipped), alpha pseudo-counts per
  !> table cell, as a finalised (deterministic) circuit.
  subroutine pc_learn_cltree(self, x, alpha, stat)
    class(latens_pc_circuit), intent(inout) :: self
    real(c_double), intent(in), contiguous, target :: x(:, :)
    real(c_double), intent(in), optional :: alpha
    integer, intent(out), optional :: stat
    type(c_ptr) :: h
    real(c_double) :: a
    integer(c_int) :: status
    call latens_f_begin(stat)
    call self%free()
    a = 1
    if (present(alpha)) a = alpha
    h = c_null_ptr
    status = c_cltree_fit(latens_mat_view(x), a, h)
    if (status == LATENS_OK) status = c_hclt_to_circuit(h, self%handle)
    if (status /= LATENS_OK) self%handle = c_null_ptr
    call c_hclt_free(h)
    call latens_f_end(status, stat, 'latens_pc_circuit%learn_cltree')
  end subroutine pc_learn_cltree

  ! ------------------------------------------------------------------ inspection

  integer function pc_nvars(self)
    class(latens_pc_circuit), intent(in) :: self
    interface
       function f(pc) bind(c, name='latens_pc_nvars')
         import :: c_ptr, c_size_t
         type(c_ptr), value :: pc
         integer(c_size_t) :: f
       end function f
    end interface
    pc_nvars = 0
    if (c_associated(self%handle)) pc_nvars = int(f(self%handle))
  end function pc_nvars

  integer function pc_nunits(self)
    class(latens_pc_circuit), intent(in) :: self
    interface
       function f(pc) bind(c, name='latens_pc_nunits')
         import :: c_ptr, c_size_t
         type(c_ptr), value :: pc
         integer(c_size_t) :: f
       end function f
    end interface
    pc_nunits = 0
    if (c_associated(self%handle)) pc_nunits = int(f(self%handle))
  end function pc_nunits

  integer function pc_nparams(self)
    class(latens_pc_circuit), intent(in) :: self
    interface
       function f(pc) bind(c, name='latens_pc_nparams')
         import :: c_ptr, c_size_t
         type(c_ptr), value :: pc
         integer(c_size_t) :: f
       end function f
    end interface
    pc_nparams = 0
    if (c_associated(self%handle)) pc_nparams = int(f(self%handle))
  end function pc_nparams

  logical function pc_is_deterministic(self)
    class(latens_pc_circuit), intent(in) :: self
    interface
       function f(pc) bind(c, name='latens_pc_is_deterministic')
         import :: c_ptr, c_int
         type(c_ptr), value :: pc
         integer(c_int) :: f
       end function f
    end interface
    pc_is_deterministic = .false.
    if (c_associated(self%handle)) pc_is_deterministic = f(self%handle) /= 0
  end function pc_is_deterministic

  integer function ncat_of(self, var)
    class(latens_pc_circuit), intent(in) :: self
    integer, intent(in) :: var
    interface
       function f(pc, v) bind(c, name='latens_pc_ncat')
         import :: c_ptr, c_size_t
         type(c_ptr), value :: pc
         integer(c_size_t), value :: v
         integer(c_size_t) :: f
       end function f
    end interface
    ncat_of = 0
    if (c_associated(self%handle) .and. var >= 1) ncat_of = int(f(self%handle, int(var - 1, c_size_t)))
  end function ncat_of

  !> theta(1:nparams) <- the parameter vector (layout in include/latens/pc.h); finalised only.
  subroutine pc_get_params(self, theta, stat)
    class(latens_pc_circuit), intent(in) :: self
    real(c_double), intent(out) :: theta(:)
    integer, intent(out), optional :: stat
    real(c_double), pointer :: p(:)
    type(c_ptr) :: cp
    integer(c_int) :: status
    call latens_f_begin(stat)
    status = need(self, 'latens_pc_circuit%get_params')
    if (status == LATENS_OK .and. size(theta) /= self%nparams()) status = &
         latens_f_fail(LATENS_EBADLEN, 'latens_pc_circuit%get_params: size(theta) /= nparams')
    if (status == LATENS_OK .and. size(theta) > 0) then
       cp = c_params(self%handle)
       if (.not. c_associated(cp)) then
          status = int(max(latens_last_error_status(), 1), c_int)
       else
          call c_f_pointer(cp, p, [size(theta)])
          theta = p
       end if
    end if
    call latens_f_end(status, stat, 'latens_pc_circuit%get_params')
  end subroutine pc_get_params

  subroutine pc_free(self)
    class(latens_pc_circuit), intent(inout) :: self
    call c_free(self%handle)
    self%handle = c_null_ptr
  end subroutine pc_free

  subroutine pc_final(self)
    type(latens_pc_circuit), intent(inout) :: self
    call self%free()
  end subroutine pc_final

  subroutine pc_assign(lhs, rhs)
    class(latens_pc_circuit), intent(inout) :: lhs
    class(latens_pc_circuit), intent(in) :: rhs
    if (c_associated(lhs%handle, rhs%handle)) return
    call lhs%free()
    if (.not. c_associated(rhs%handle)) return
    lhs%handle = c_copy(rhs%handle)
    if (.not. c_associated(lhs%handle)) error stop 'latens: latens_pc_circuit assignment failed'
  end subroutine pc_assign

  ! ------------------------------------------------------------------ queries

  integer(c_int) function check_data(pc, x, what) result(status)
    type(latens_pc_circuit), intent(in) :: pc
    real(c_double), intent(in) :: x(:, :)
    character(*), intent(in) :: what
    status = need(pc, what)
    if (status == LATENS_OK .and. (size(x, 2) /= pc%nvars() .or. size(x, 1) < 1)) status = &
         latens_f_fail(LATENS_EBADLEN, what // ': x must be n x nvars with n >= 1')
  end function check_data

  !> ll(i) = log p(x(i, :)), NaN entries summed out (marginals).
  subroutine latens_pc_loglik(pc, x, ll, stat)
    type(latens_pc_circuit), intent(in) :: pc
    real(c_double), intent(in), contiguous, target :: x(:, :)
    real(c_double), intent(out), contiguous, target :: ll(:)
    integer, intent(out), optional :: stat
    integer(c_int) :: status
    call latens_f_begin(stat)
    status = check_data(pc, x, 'latens_pc_loglik')
    if (status == LATENS_OK .and. size(ll) /= size(x, 1)) &
         status = latens_f_fail(LATENS_EBADLEN, 'latens_pc_loglik: size(ll) /= size(x, 1)')
    if (status == LATENS_OK) status = c_loglik(pc%handle, latens_mat_view(x), latens_vec_view(ll), &
         c_null_ptr)
    call latens_f_end(status, stat, 'latens_pc_loglik')
  end subroutine latens_pc_loglik

  !> MAP completion: NaN entries of x are replaced by the max-product assignment; logp
  !> (optional) receives its log value (exact for deterministic circuits).
  subroutine latens_pc_map(pc, x, logp, stat)
    type(latens_pc_circuit), intent(in) :: pc
    real(c_double), intent(inout), contiguous, target :: x(:, :)
    real(c_double), intent(out), contiguous, target, optional :: logp(:)
    integer, intent(out), optional :: stat
    type(latens_vec_c), target :: lv
    type(c_ptr) :: pl
    integer(c_int) :: status
    call latens_f_begin(stat)
    status = check_data(pc, x, 'latens_pc_map')
    pl = c_null_ptr
    if (status == LATENS_OK .and. present(logp)) then
       if (size(logp) /= size(x, 1)) then
          status = latens_f_fail(LATENS_EBADLEN, 'latens_pc_map: size(logp) /= size(x, 1)')
       else
          lv = latens_vec_view(logp)
          pl = c_loc(lv)
       end if
    end if
    if (status == LATENS_OK) status = c_map(pc%handle, latens_mat_view(x), pl, c_null_ptr)
    call latens_f_end(status, stat, 'latens_pc_map')
  end subroutine latens_pc_map

  !> Sampling: NaN entries of x are drawn given the row's observed entries.
  subroutine latens_pc_sample(pc, x, rng, stat)
    type(latens_pc_circuit), intent(in) :: pc
    real(c_double), intent(inout), contiguous, target :: x(:, :)
    type(latens_rng), intent(inout) :: rng
    integer, intent(out), optional :: stat
    integer(c_int) :: status
    call latens_f_begin(stat)
    status = check_data(pc, x, 'latens_pc_sample')
    if (status == LATENS_OK .and. .not. c_associated(rng%handle)) &
         status = latens_f_fail(LATENS_EINVAL, 'latens_pc_sample: rng not initialised')
    if (status == LATENS_OK) status = c_sample(pc%handle, latens_mat_view(x), rng%handle, c_null_ptr)
    call latens_f_end(status, stat, 'latens_pc_sample')
  end subroutine latens_pc_sample

  !> EM on the parameters from train (NaN = missing), optional validation data; rng is
  !> needed for mini-batches (opt%batch_size > 0).
  subroutine latens_pc_em(pc, train, opt, valid, rng, result, stat)
    type(latens_pc_circuit), intent(inout) :: pc
    real(c_double), intent(in), contiguous, target :: train(:, :)
    type(latens_pc_em_options), intent(in), optional :: opt
    real(c_double), intent(in), contiguous, target, optional :: valid(:, :)
    type(latens_rng), intent(inout), optional :: rng
    type(latens_pc_em_result), intent(out), optional :: result
    integer, intent(out), optional :: stat
    type(latens_pc_em_options) :: o
    type(latens_pc_em_result) :: r
    type(latens_mat_c), target :: vv
    type(c_ptr) :: pv, pr
    integer(c_int) :: status
    call latens_f_begin(stat)
    status = check_data(pc, train, 'latens_pc_em')
    pv = c_null_ptr
    pr = c_null_ptr
    if (present(opt)) then
       o = opt
    else
       call c_em_options_default(o)
    end if
    if (status == LATENS_OK .and. present(valid)) then
       status = check_data(pc, valid, 'latens_pc_em (valid)')
       vv = latens_mat_view(valid)
       pv = c_loc(vv)
    end if
    if (present(rng)) pr = rng%handle
    if (status == LATENS_OK) status = c_em(pc%handle, latens_mat_view(train), pv, o, pr, &
         c_null_ptr, r)
    if (present(result)) result = r
    call latens_f_end(status, stat, 'latens_pc_em')
  end subroutine latens_pc_em

end module latens_pc

! latens_core: the Fortran 2008 face of latens' core (include/latens/common.h, rng.h, table.h).
!
! Conventions shared by every latens_* Fortran module:
! - Reals are real(c_double) (= latens_dp); arrays are passed to C without a copy, so array
!   dummies are `contiguous` (a non-contiguous actual is copied by the compiler, which is
!   correct but costs a copy).
! - Indices the user sees (variables, units, nodes) are 1-based; data values such as
!   category codes keep their C meaning (0..ncat-1).
! - Every wrapper that can fail takes an optional `stat`.  Present: it receives the status
!   (LATENS_OK = 0 on success) and the library's error handler stays quiet for the call (a
!   per-thread quiet section, never a process-wide handler swap); the message is available
!   from latens_last_error_message().  Absent: a failure ends the program with `error stop`
!   and the library's message, as Fortran users expect from intrinsic I/O.
! - Handles (latens_rng, latens_pc_circuit, ...) are derived types with a final procedure;
!   assignment makes an independent copy where the C library can copy the object.  Their
!   `handle` component is the C pointer: read it only to call the C API directly.
module latens_core
  use, intrinsic :: iso_c_binding
  use, intrinsic :: iso_fortran_env, only: error_unit
  implicit none
  private

  integer, parameter, public :: latens_dp = c_double

  ! Status codes of include/latens/common.h (stable numbers).
  integer, parameter, public :: LATENS_OK = 0, LATENS_EFAILED = 1, LATENS_EINVAL = 2, &
       LATENS_EDOM = 3, LATENS_ENOMEM = 4, LATENS_EBADLEN = 5, LATENS_ENOTPOSDEF = 6, &
       LATENS_ESING = 7, LATENS_EMAXITER = 8, LATENS_ENOPROG = 9, LATENS_ENOTFINITE = 10, &
       LATENS_EIO = 11, LATENS_EPARSE = 12, LATENS_EINTERRUPTED = 13, LATENS_EUNIMPL = 14, &
       LATENS_ERANGE = 15

  ! latens_mat and latens_vec of include/latens/matrix.h, for views of Fortran arrays.
  type, bind(c), public :: latens_mat_c
     type(c_ptr) :: data = c_null_ptr
     integer(c_size_t) :: nrow = 0, ncol = 0, ld = 0
     integer(c_int) :: owner = 0
  end type latens_mat_c
  type, bind(c), public :: latens_vec_c
     type(c_ptr) :: data = c_null_ptr
     integer(c_size_t) :: n = 0, stride = 1
     integer(c_int) :: owner = 0
  end type latens_vec_c

  ! A random stream (Philox4x32-10, include/latens/rng.h): the pair (seed, stream id).
  ! Assignment copies the state, so both copies then produce the same numbers (a fork).
  type, public :: latens_rng
     type(c_ptr) :: handle = c_null_ptr
   contains
     procedure :: init => rng_init
     procedure :: split => rng_split
     procedure :: uniform => rng_uniform
     procedure :: normal => rng_normal
     procedure :: fill_uniform => rng_fill_uniform
     procedure :: fill_normal => rng_fill_normal
     procedure :: free => rng_free
     generic :: assignment(=) => rng_assign
     procedure, private :: rng_assign
     final :: rng_final
  end type latens_rng

  public :: latens_version, latens_strerror, latens_last_error_message, latens_last_error_status
  public :: latens_clear_error, latens_max_threads, latens_have_openmp
  public :: latens_error_quiet_begin, latens_error_quiet_end
  public :: latens_read_table
  public :: latens_set_error_handler, latens_set_error_handler_off, latens_error_handler_c

  abstract interface
     !> An error handler (include/latens/common.h): reason and file are C strings (read them
     !> with latens_f_string); it must return.  Install it with
     !> latens_set_error_handler(c_funloc(h)) after assigning c_funloc(h) to a variable.
     subroutine latens_error_handler_c(reason, file, line, status) bind(c)
       import :: c_ptr, c_int
       type(c_ptr), value :: reason, file
       integer(c_int), value :: line, status
     end subroutine latens_error_handler_c
  end interface
  ! For the other latens_* modules (not part of the user-facing API).
  public :: latens_f_begin, latens_f_end, latens_f_fail, latens_c_string, latens_f_string
  public :: latens_mat_view, latens_vec_view

  interface
     function c_strlen(s) bind(c, name='strlen')
       import :: c_ptr, c_size_t
       type(c_ptr), value :: s
       integer(c_size_t) :: c_strlen
     end function c_strlen
     function c_version() bind(c, name='latens_version')
       import :: c_ptr
       type(c_ptr) :: c_version
     end function c_version
     function c_strerror(status) bind(c, name='latens_strerror')
       import :: c_ptr, c_int
       integer(c_int), value :: status
       type(c_ptr) :: c_strerror
     end function c_strerror
     function c_last_error(reason) bind(c, name='latens_last_error')
       import :: c_ptr, c_int
       type(c_ptr), intent(out) :: reason
       integer(c_int) :: c_last_error
     end function c_last_error
     function c_set_handler(h) bind(c, name='latens_set_error_handler')
       import :: c_funptr
       type(c_funptr), value :: h
       type(c_funptr) :: c_set_handler
     end function c_set_handler
     function c_set_handler_off() bind(c, name='latens_set_error_handler_off')
       import :: c_funptr
       type(c_funptr) :: c_set_handler_off
     end function c_set_handler_off
     subroutine latens_clear_error() bind(c, name='latens_clear_error')
     end subroutine latens_clear_error
     subroutine latens_error_quiet_begin() bind(c, name='latens_error_quiet_begin')
     end subroutine latens_error_quiet_begin
     subroutine latens_error_quiet_end() bind(c, name='latens_error_quiet_end')
     end subroutine latens_error_quiet_end
     subroutine c_error(reason, file, line, status) bind(c, name='latens_error')
       import :: c_char, c_int
       character(kind=c_char), intent(in) :: reason(*), file(*)
       integer(c_int), value :: line, status
     end subroutine c_error
     function c_max_threads() bind(c, name='latens_max_threads')
       import :: c_int
       integer(c_int) :: c_max_threads
     end function c_max_threads
     function c_have_openmp() bind(c, name='latens_have_openmp')
       import :: c_int
       integer(c_int) :: c_have_openmp
     end function c_have_openmp
     function c_rng_alloc(seed, stream) bind(c, name='latens_rng_alloc')
       import :: c_ptr, c_int64_t
       integer(c_int64_t), value :: seed, stream
       type(c_ptr) :: c_rng_alloc
     end function c_rng_alloc
     subroutine c_rng_free(r) bind(c, name='latens_rng_free')
       import :: c_ptr
       type(c_ptr), value :: r
     end subroutine c_rng_free
     function c_rng_split(child, parent, id) bind(c, name='latens_rng_split')
       import :: c_ptr, c_int, c_int64_t
       type(c_ptr), value :: child, parent
       integer(c_int64_t), value :: id
       integer(c_int) :: c_rng_split
     end function c_rng_split
     function c_rng_uniform(r) bind(c, name='latens_rng_uniform')
       import :: c_ptr, c_double
       type(c_ptr), value :: r
       real(c_double) :: c_rng_uniform
     end function c_rng_uniform
     function c_rng_normal(r) bind(c, name='latens_rng_normal')
       import :: c_ptr, c_double
       type(c_ptr), value :: r
       real(c_double) :: c_rng_normal
     end function c_rng_normal
     function c_rng_fill_uniform(r, x, n) bind(c, name='latens_rng_fill_uniform')
       import :: c_ptr, c_double, c_size_t, c_int
       type(c_ptr), value :: r
       real(c_double) :: x(*)
       integer(c_size_t), value :: n
       integer(c_int) :: c_rng_fill_uniform
     end function c_rng_fill_uniform
     function c_rng_fill_normal(r, x, n, mu, sigma) bind(c, name='latens_rng_fill_normal')
       import :: c_ptr, c_double, c_size_t, c_int
       type(c_ptr), value :: r
       real(c_double) :: x(*)
       integer(c_size_t), value :: n
       real(c_double), value :: mu, sigma
       integer(c_int) :: c_rng_fill_normal
     end function c_rng_fill_normal
     function c_table_read(path, opt, out) bind(c, name='latens_table_read_numeric')
       import :: c_ptr, c_char, c_int
       character(kind=c_char), intent(in) :: path(*)
       type(c_ptr), value :: opt
       type(c_ptr), intent(out) :: out
       integer(c_int) :: c_table_read
     end function c_table_read
     subroutine c_table_free(t) bind(c, name='latens_table_free')
       import :: c_ptr
       type(c_ptr), value :: t
     end subroutine c_table_free
     function c_table_name(t, j) bind(c, name='latens_table_name')
       import :: c_ptr, c_size_t
       type(c_ptr), value :: t
       integer(c_size_t), value :: j
       type(c_ptr) :: c_table_name
     end function c_table_name
     function c_table_data(t) bind(c, name='latens_table_data')
       import :: c_ptr
       type(c_ptr), value :: t
       type(c_ptr) :: c_table_data
     end function c_table_data
  end interface

contains

  ! ------------------------------------------------------------------ strings

  !> s as a NUL-terminated C string (pass it to a `character(kind=c_char) :: x(*)` dummy).
  pure function latens_c_string(s) result(c)
    character(*), intent(in) :: s
    character(kind=c_char, len=:), allocatable :: c
    c = s // c_null_char
  end function latens_c_string

  !> A copy of the C string at p ('' for a NULL pointer).
  function latens_f_string(p) result(s)
    type(c_ptr), intent(in) :: p
    character(:), allocatable :: s
    character(kind=c_char), pointer :: a(:)
    integer :: i, n
    if (.not. c_associated(p)) then
       s = ''
       return
    end if
    n = int(c_strlen(p))
    call c_f_pointer(p, a, [n])
    allocate(character(n) :: s)
    do i = 1, n
       s(i:i) = a(i)
    end do
  end function latens_f_string

  ! ------------------------------------------------------------------ build facts, errors

  !> The library version ("0.1.0").
  function latens_version() result(v)
    character(:), allocatable :: v
    v = latens_f_string(c_version())
  end function latens_version

  !> A short English description of a status code.
  function latens_strerror(status) result(s)
    integer, intent(in) :: status
    character(:), allocatable :: s
    s = latens_f_string(c_strerror(int(status, c_int)))
  end function latens_strerror

  !> The message of the last error on this thread ('' if none since latens_clear_error).
  function latens_last_error_message() result(s)
    character(:), allocatable :: s
    type(c_ptr) :: reason
    integer(c_int) :: st
    st = c_last_error(reason)
    s = latens_f_string(reason)
  end function latens_last_error_message

  !> The status of the last error on this thread (LATENS_OK if none).
  integer function latens_last_error_status()
    type(c_ptr) :: reason
    latens_last_error_status = int(c_last_error(reason))
  end function latens_last_error_status

  !> Install a process-wide error handler (c_null_funptr: the default, which prints one
  !> line on stderr); previous receives the old one.  Wrappers called with stat= never reach
  !> the handler (their errors go to stat and latens_last_error_message()).
  subroutine latens_set_error_handler(handler, previous)
    type(c_funptr), intent(in) :: handler
    type(c_funptr), intent(out), optional :: previous
    type(c_funptr) :: old
    old = c_set_handler(handler)
    if (present(previous)) previous = old
  end subroutine latens_set_error_handler

  !> Turn reporting off process-wide (errors are still returned and recorded per thread).
  subroutine latens_set_error_handler_off(previous)
    type(c_funptr), intent(out), optional :: previous
    type(c_funptr) :: old
    old = c_set_handler_off()
    if (present(previous)) previous = old
  end subroutine latens_set_error_handler_off

  integer function latens_max_threads()
    latens_max_threads = int(c_max_threads())
  end function latens_max_threads

  logical function latens_have_openmp()
    latens_have_openmp = c_have_openmp() /= 0
  end function latens_have_openmp

  !> Start a wrapped call: with stat present the caller handles errors, so the handler is
  !> quiet for this thread until latens_f_end.
  subroutine latens_f_begin(stat)
    integer, intent(in), optional :: stat
    if (present(stat)) call latens_error_quiet_begin()
    call latens_clear_error()
  end subroutine latens_f_begin

  !> End a wrapped call: hand the status to stat, or stop on failure when stat is absent.
  subroutine latens_f_end(status, stat, what)
    integer(c_int), intent(in) :: status
    integer, intent(out), optional :: stat
    character(*), intent(in) :: what
    if (present(stat)) then
       call latens_error_quiet_end()
       stat = int(status)
    else if (status /= LATENS_OK) then
       ! Fortran 2008 wants a constant stop code, so the message goes on the line before.
       write(error_unit, '(a)') 'latens: ' // what // ': ' // latens_last_error_message() // &
            ' (' // latens_strerror(int(status)) // ')'
       error stop 1
    end if
  end subroutine latens_f_end

  !> Record an error detected on the Fortran side (bad shapes) like a library error, so
  !> latens_last_error_message() sees it; returns the status.
  integer(c_int) function latens_f_fail(status, reason)
    integer, intent(in) :: status
    character(*), intent(in) :: reason
    call c_error(latens_c_string(reason), latens_c_string('bindings/fortran'), 0_c_int, &
         int(status, c_int))
    latens_f_fail = int(status, c_int)
  end function latens_f_fail

  ! ------------------------------------------------------------------ views

  !> A latens_mat view of a contiguous Fortran matrix (no copy; ld = size(x, 1)).
  function latens_mat_view(x) result(m)
    real(c_double), intent(in), contiguous, target :: x(:, :)
    type(latens_mat_c) :: m
    m%nrow = size(x, 1, kind=c_size_t)
    m%ncol = size(x, 2, kind=c_size_t)
    m%ld = max(m%nrow, 1_c_size_t)
    if (size(x) > 0) m%data = c_loc(x)
  end function latens_mat_view

  !> A latens_vec view of a contiguous Fortran vector (no copy).
  function latens_vec_view(x) result(v)
    real(c_double), intent(in), contiguous, target :: x(:)
    type(latens_vec_c) :: v
    v%n = size(x, kind=c_size_t)
    v%stride = 1
    if (size(x) > 0) v%data = c_loc(x)
  end function latens_vec_view

  ! ------------------------------------------------------------------ rng

  !> Start stream (seed, stream) (stream defaults to 0); replaces any previous state.
  subroutine rng_init(self, seed, stream, stat)
    class(latens_rng), intent(inout) :: self
    integer(c_int64_t), intent(in) :: seed
    integer(c_int64_t), intent(in), optional :: stream
    integer, intent(out), optional :: stat
    integer(c_int64_t) :: s
    integer(c_int) :: status
    call latens_f_begin(stat)
    s = 0
    if (present(stream)) s = stream
    call self%free()
    self%handle = c_rng_alloc(seed, s)
    status = LATENS_OK
    if (.not. c_associated(self%handle)) status = LATENS_ENOMEM
    call latens_f_end(status, stat, 'latens_rng%init')
  end subroutine rng_init

  !> child <- child stream number id of self (depends only on self's seed and stream id).
  subroutine rng_split(self, child, id, stat)
    class(latens_rng), intent(in) :: self
    type(latens_rng), intent(inout) :: child
    integer(c_int64_t), intent(in) :: id
    integer, intent(out), optional :: stat
    integer(c_int) :: status
    call latens_f_begin(stat)
    if (.not. c_associated(self%handle)) then
       status = latens_f_fail(LATENS_EINVAL, 'latens_rng%split: the parent stream is not initialised')
    else
       if (.not. c_associated(child%handle)) child%handle = c_rng_alloc(0_c_int64_t, 0_c_int64_t)
       status = LATENS_ENOMEM
       if (c_associated(child%handle)) status = c_rng_split(child%handle, self%handle, id)
    end if
    call latens_f_end(status, stat, 'latens_rng%split')
  end subroutine rng_split

  !> A uniform draw in (0, 1).  The stream must be initialised (not checked, as in C).
  real(c_double) function rng_uniform(self)
    class(latens_rng), intent(inout) :: self
    rng_uniform = c_rng_uniform(self%handle)
  end function rng_uniform

  !> A standard normal draw.
  real(c_double) function rng_normal(self)
    class(latens_rng), intent(inout) :: self
    rng_normal = c_rng_normal(self%handle)
  end function rng_normal

  !> x <- size(x) uniform draws (the same numbers as that many single draws).
  subroutine rng_fill_uniform(self, x, stat)
    class(latens_rng), intent(inout) :: self
    real(c_double), intent(out), contiguous :: x(:)
    integer, intent(out), optional :: stat
    integer(c_int) :: status
    call latens_f_begin(stat)
    if (.not. c_associated(self%handle)) then
       status = latens_f_fail(LATENS_EINVAL, 'latens_rng%fill_uniform: stream not initialised')
    else if (size(x) == 0) then
       status = LATENS_OK
    else
       status = c_rng_fill_uniform(self%handle, x, size(x, kind=c_size_t))
    end if
    call latens_f_end(status, stat, 'latens_rng%fill_uniform')
  end subroutine rng_fill_uniform

  !> x <- size(x) draws of mu + sigma N(0, 1) (mu 0, sigma 1 by default).
  subroutine rng_fill_normal(self, x, mu, sigma, stat)
    class(latens_rng), intent(inout) :: self
    real(c_double), intent(out), contiguous :: x(:)
    real(c_double), intent(in), optional :: mu, sigma
    integer, intent(out), optional :: stat
    real(c_double) :: m, s
    integer(c_int) :: status
    call latens_f_begin(stat)
    m = 0
    s = 1
    if (present(mu)) m = mu
    if (present(sigma)) s = sigma
    if (.not. c_associated(self%handle)) then
       status = latens_f_fail(LATENS_EINVAL, 'latens_rng%fill_normal: stream not initialised')
    else if (size(x) == 0) then
       status = LATENS_OK
    else
       status = c_rng_fill_normal(self%handle, x, size(x, kind=c_size_t), m, s)
    end if
    call latens_f_end(status, stat, 'latens_rng%fill_normal')
  end subroutine rng_fill_normal

  subroutine rng_free(self)
    class(latens_rng), intent(inout) :: self
    call c_rng_free(self%handle)
    self%handle = c_null_ptr
  end subroutine rng_free

  subroutine rng_final(self)
    type(latens_rng), intent(inout) :: self
    call self%free()
  end subroutine rng_final

  ! A copy of the state: the two streams go on identically (as copying the C struct does).
  subroutine rng_assign(lhs, rhs)
    class(latens_rng), intent(inout) :: lhs
    class(latens_rng), intent(in) :: rhs
    integer(c_int8_t), pointer :: src(:), dst(:)
    if (c_associated(lhs%handle, rhs%handle)) return
    call lhs%free()
    if (.not. c_associated(rhs%handle)) return
    lhs%handle = c_rng_alloc(0_c_int64_t, 0_c_int64_t)
    if (.not. c_associated(lhs%handle)) error stop 'latens: latens_rng assignment: out of memory'
    call c_f_pointer(rhs%handle, src, [c_rng_size()])
    call c_f_pointer(lhs%handle, dst, [c_rng_size()])
    dst = src
  end subroutine rng_assign

  ! sizeof(latens_rng): key[2], ctr[4], buf[4] uint32, unsigned used, int have_normal,
  ! double normal.
  pure integer function c_rng_size()
    c_rng_size = 4 * (2 + 4 + 4) + 4 + 4 + 8
  end function c_rng_size

  ! ------------------------------------------------------------------ tables

  !> Read a numeric CSV / whitespace table (header detected; NA, empty and ? missing -> NaN).
  !> x: nrow x ncol; names: the column names (header, else V1, V2, ...).  Errors name
  !> path:line:column.
  subroutine latens_read_table(path, x, names, stat)
    character(*), intent(in) :: path
    real(c_double), allocatable, intent(out) :: x(:, :)
    character(:), allocatable, intent(out), optional :: names(:)
    integer, intent(out), optional :: stat
    type(c_ptr) :: t, pm
    type(latens_mat_c), pointer :: m
    real(c_double), pointer :: a(:)
    integer(c_int) :: status
    integer :: j, len_max
    call latens_f_begin(stat)
    t = c_null_ptr
    status = c_table_read(latens_c_string(path), c_null_ptr, t)
    if (status == LATENS_OK) then
       pm = c_table_data(t)
       call c_f_pointer(pm, m)
       allocate(x(m%nrow, m%ncol))
       if (m%nrow * m%ncol > 0) then
          call c_f_pointer(m%data, a, [m%ld * m%ncol])
          do j = 1, int(m%ncol)
             x(:, j) = a((j - 1) * m%ld + 1:(j - 1) * m%ld + m%nrow)
          end do
       end if
       if (present(names)) then
          len_max = 1
          do j = 1, int(m%ncol)
             len_max = max(len_max, len(latens_f_string(c_table_name(t, int(j - 1, c_size_t)))))
          end do
          allocate(character(len_max) :: names(m%ncol))
          do j = 1, int(m%ncol)
             names(j) = latens_f_string(c_table_name(t, int(j - 1, c_size_t)))
          end do
       end if
    end if
    call c_table_free(t)
    call latens_f_end(status, stat, 'latens_read_table')
  end subroutine latens_read_table

end module latens_core
